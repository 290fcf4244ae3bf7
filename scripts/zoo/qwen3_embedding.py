"""qwen3-embedding-shape: a toy-size Qwen3 (transformers' Qwen3Model, random seeded weights, the
real Qwen3 tokenizer appending <|endoftext|>) in the folder and ONNX signature of
onnx-community/Qwen3-Embedding-0.6B-ONNX:

  inputs   input_ids, attention_mask [B, past + T], position_ids, past_key_values.{i}.key/value
           [B, kv_heads, past, head_dim] (fed empty: past 0)
  outputs  last_hidden_state [B, T, H], present.{i}.key/value

optimum has no task that gives exactly this: "feature-extraction" has neither position_ids' past
nor present outputs, "feature-extraction-with-past" gives present.* but no past_key_values inputs
(optimum 2.1 only feeds the past to text-generation models). So, as a custom export of optimum's
documented kind: main_export(task "feature-extraction") with custom_onnx_configs={"model":
Qwen3OnnxConfig(use_past=True, use_past_in_inputs=True)}, whose last_hidden_state axis 1 is named
sequence_length (optimum's base class declares it 1, for a one-token decoding step). Then
onnxslim, as transformers.js' convert.py does; fp32 with external data (model.onnx_data, as the
hub's), then quantize.py's modes with convert.py's decoder rule (no per-channel, no reduce-range).

Reference (reference.json, the encoders' format): sentence-transformers on the saved folder
(Transformer -> lasttoken Pooling -> Normalize, as Qwen3-Embedding's own), each text ALONE, so
positions are 0..n-1 whatever a batch would pad (MODELS.md), cross-checked against Qwen3Model's
last hidden state at the appended <|endoftext|>, L2-normalized.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import check
import decoder_common as dc
import export
import reference

NAME = "qwen3-embedding-shape"
SEED = 1003
TASK = "Given a web search query, retrieve relevant passages that answer the query"
PROMPTS = {"query": f"Instruct: {TASK}\nQuery:", "document": ""}
MAX_SEQ_LENGTH = 32768
MODES = ["fp16", "q8", "int8", "uint8", "q4", "q4f16", "bnb4"]
RECIPE = ("Qwen3Model, optimum main_export (task feature-extraction, custom Qwen3OnnxConfig use_past=True, "
          "use_past_in_inputs=True: position_ids + past_key_values inputs, last_hidden_state + present outputs) + "
          "onnxslim, fp32 as model.onnx + model.onnx_data; then transformers.js quantize.py's modes (qwen3: no "
          "per-channel, no reduce-range)")


def _onnx_config_class():
    from optimum.exporters.onnx.model_configs import Qwen3OnnxConfig

    class Qwen3EmbeddingOnnxConfig(Qwen3OnnxConfig):
        @property
        def outputs(self):
            out = OrderedDict({"last_hidden_state": {0: "batch_size", 1: "sequence_length"}})
            self.add_past_key_values(out, direction="outputs")
            return out

    return Qwen3EmbeddingOnnxConfig


def _export(hf_dir: Path, folder: Path, config) -> Path:
    import onnxslim
    from optimum.exporters.onnx import main_export

    cfg = _onnx_config_class()(config, task="feature-extraction", use_past=True, use_past_in_inputs=True)
    main_export(str(hf_dir), output=str(folder), task="feature-extraction", library_name="transformers", opset=None,
                device="cpu", do_validation=True, custom_onnx_configs={"model": cfg})
    path = folder / "model.onnx"
    export.check_and_save(onnxslim.slim(str(path)), path)
    return path


def _torch_last_token(model, ids: list[int]) -> np.ndarray:
    import torch

    with torch.no_grad():
        h = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long)).last_hidden_state
    v = h[0, -1].double().numpy()
    return v / np.linalg.norm(v)


def make_source(hf_dir: Path, st_dir: Path, node_modules: Path):
    """The toy Qwen3-Embedding: Qwen3Model (seeded draw) saved as a Hugging Face folder with the
    real Qwen3 tokenizer appending <|endoftext|> (padding side left, as Qwen3-Embedding's), and the
    sentence-transformers folder on it (last-token pooling, normalize, PROMPTS). Shared with
    qwen3_embedding_gqa.py, so both zoo models carry the same weights. Returns (config, model,
    tokenizer provenance)."""
    from transformers import Qwen3Config, Qwen3Model

    from models import save_sentence_transformer

    config = Qwen3Config(**dc.QWEN3_SHAPE, architectures=["Qwen3ForCausalLM"])
    model = dc.random_init(Qwen3Model, config, SEED)
    model.save_pretrained(str(hf_dir), safe_serialization=True)
    tok_info = dc.write_qwen3_tokenizer(node_modules, hf_dir, append_eos=True, padding_side="left")
    save_sentence_transformer(hf_dir, st_dir, max_seq_length=MAX_SEQ_LENGTH, do_lower_case=False, pooling="lasttoken",
                              prompts=PROMPTS)
    return config, model, tok_info


def _embed_alone(st, texts: list[str]) -> np.ndarray:
    return np.stack([st.encode([t], batch_size=1, normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)[0] for t in texts])


def probe_reference(st_dir: Path, model, probe: list[dict]):
    """sentence-transformers on st_dir, each probe input (prompt + text) ALONE, cross-checked
    against Qwen3Model's last hidden state at the appended <|endoftext|>, and prompt_name='query'
    against prompt + text. Returns (st, inputs, token ids, vectors [N, H], worst cross-check)."""
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(st_dir), device="cpu", local_files_only=True)
    tokenizer = st.tokenizer
    inputs = [PROMPTS[p["task"]] + p["text"] for p in probe]
    emb = _embed_alone(st, inputs)
    ids = [tokenizer(t)["input_ids"] for t in inputs]
    if any(r[-1] != dc.ENDOFTEXT_ID for r in ids):
        raise AssertionError("the tokenizer does not end every input with <|endoftext|>")
    worst = 0.0
    for i, r in enumerate(ids):
        worst = max(worst, float(np.abs(_torch_last_token(model, r) - emb[i]).max()))
    if worst > 1e-5:
        raise AssertionError(f"sentence-transformers and Qwen3Model's last token differ by {worst}")
    by_name = st.encode([probe[i]["text"] for i in range(len(probe)) if probe[i]["task"] == "query"][:3],
                        prompt_name="query", batch_size=1, normalize_embeddings=True, convert_to_numpy=True)
    q_idx = [i for i, p in enumerate(probe) if p["task"] == "query"][:3]
    if not np.allclose(by_name, emb[q_idx], atol=1e-5):
        raise AssertionError("prompt_name='query' disagrees with prompt + text")
    return st, inputs, ids, emb, worst


def probe_entries(probe: list[dict], inputs: list[str], ids: list[list[int]], emb: np.ndarray) -> list[dict]:
    """reference.json's "probe" list (the encoders' format)."""
    return [{"text": p["text"], "task": p["task"], "input": inputs[i], "tokens": len(ids[i]),
             "embedding": reference.vec(emb[i])} for i, p in enumerate(probe)]


@dataclass
class Qwen3EmbeddingSpec:
    name: str = NAME
    wheels: list = field(default_factory=list)

    def build(self, out_root: Path, ctx, probe: list[dict], corpus: Path, threads: int, node_modules: Path) -> dict:
        from models import sha256_file

        t_model = time.time()
        steps: dict = {}
        work = out_root / ".work" / NAME
        hf_dir, st_dir = work / "hf", work / "st"

        t0 = time.time()
        config, model, tok_info = make_source(hf_dir, st_dir, node_modules)
        steps["source"] = round(time.time() - t0, 1)

        # ---- reference: sentence-transformers, one text at a time; Qwen3Model cross-check
        t0 = time.time()
        st, inputs, ids, emb, worst = probe_reference(st_dir, model, probe)

        queries = json.loads((corpus / "paragraph-queries.json").read_text())
        paragraphs = json.loads((corpus / "paragraphs.json").read_text())
        q_emb = _embed_alone(st, [PROMPTS["query"] + q["query"] for q in queries])
        p_emb = _embed_alone(st, [p["text"] for p in paragraphs])
        expected = {p["id"]: i for i, p in enumerate(paragraphs)}
        top1 = np.argmax(q_emb @ p_emb.T, axis=1)
        hits = int(sum(int(top1[i]) == expected[q["expected"]] for i, q in enumerate(queries)))
        sims = emb @ emb.T
        off = sims[~np.eye(len(emb), dtype=bool)]
        ref = {
            "model": NAME,
            "pooling": "last-token",
            "normalize": True,
            "maxTokens": MAX_SEQ_LENGTH,
            "prompts": PROMPTS,
            "positions": "each text alone (0..n-1): batch-invariant, as MODELS.md asks",
            "probe": probe_entries(probe, inputs, ids, emb),
            "retrieval": {"queries": [reference.vec(v) for v in q_emb], "paragraphs": [reference.vec(v) for v in p_emb]},
        }
        steps["reference"] = round(time.time() - t0, 1)
        dc.log(f"    reference: dim {emb.shape[1]}, last-token, probe cosines {off.min():.3f}..{off.max():.3f} "
               f"(mean {off.mean():.3f}), retrieval top-1 {hits}/{len(queries)}, ST vs Qwen3Model {worst:.1e} "
               f"({steps['reference']} s)")

        # ---- export
        t0 = time.time()
        folder = out_root / NAME
        fp32_top = _export(hf_dir, folder, config)
        onnx_dir = folder / "onnx"
        onnx_dir.mkdir()
        fp32 = onnx_dir / "model.onnx"
        shutil.move(str(fp32_top), str(fp32))
        export.move_to_external_data(fp32)
        export.set_external_data_flag(folder / "config.json", "model.onnx")
        st_files = export.copy_sentence_transformers_files(st_dir, folder)
        import quantize

        (folder / "quantize_config.json").write_text(json.dumps(quantize.quantize_config("qwen3"), indent=4) + "\n")
        steps["export"] = round(time.time() - t0, 1)
        dc.log(f"  fp32 exported ({steps['export']} s)")

        want = np.array([p["embedding"] for p in ref["probe"]], dtype=np.float64)

        def verify(dtype: str, path: Path, notes: dict) -> dict:
            """Each probe text alone, and all of them in one left-padded batch (positions counted over
            real tokens): cosine to PyTorch, and batch vs alone."""
            info = {**check.describe(path), **notes}
            sess = dc.ort_session(path, threads)
            alone = np.zeros_like(want)
            for i, r in enumerate(ids):
                feeds, mask = dc.decoder_feeds(sess, [r], dc.ENDOFTEXT_ID, "left")
                h = sess.run(["last_hidden_state"], feeds)[0].astype(np.float64)
                if not np.isfinite(h).all():
                    raise FloatingPointError(f"{path.name}: non-finite last_hidden_state")
                v = dc.last_real(h, mask)[0]
                alone[i] = v / np.linalg.norm(v)
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))[: len(ids) - 1]  # the long text alone only
            feeds, mask = dc.decoder_feeds(sess, [ids[i] for i in order], dc.ENDOFTEXT_ID, "left")
            hb = dc.last_real(sess.run(["last_hidden_state"], feeds)[0].astype(np.float64), mask)
            hb /= np.linalg.norm(hb, axis=1, keepdims=True)
            cos = (alone * want).sum(1)
            info.update(ran_in_onnxruntime=True,
                        cosine_to_reference={"min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6)},
                        left_padded_batch_vs_alone_max_abs=float(f"{np.abs(hb - alone[order]).max():.3g}"))
            info["summary"] = f"cos>= {cos.min():.5f}  batch-vs-alone {info['left_padded_batch_vs_alone_max_abs']:.1e}"
            return info

        t0 = time.time()
        dtypes = {"fp32": verify("fp32", fp32, {})}
        dc.log(f"  fp32   model.onnx (+ model.onnx_data) {dtypes['fp32']['total_bytes']:>12,} bytes  {dtypes['fp32']['summary']}")
        steps["fp32_check"] = round(time.time() - t0, 1)
        if dtypes["fp32"]["cosine_to_reference"]["min"] < 0.99999:
            raise AssertionError(f"fp32 export disagrees with PyTorch: {dtypes['fp32']['cosine_to_reference']}")
        more, failed = dc.build_dtypes(folder, fp32, "qwen3", verify, MODES)
        dtypes.update(more)
        for mode in MODES:
            steps[mode] = dtypes[mode].get("seconds")

        reference.write_reference(ref, folder / "reference.json")
        entry = {
            "folder": NAME, "model_type": "qwen3", "recipe": RECIPE,
            "source": {"kind": "random weights in the real model's architecture, toy size",
                       "shape_of": "Qwen/Qwen3-Embedding-0.6B (onnx-community/Qwen3-Embedding-0.6B-ONNX)",
                       "seed": SEED, "init": dc.INIT_NOTE, "config": dc.QWEN3_SHAPE, "tokenizer": tok_info,
                       "model_safetensors_sha256": sha256_file(hf_dir / "model.safetensors")},
            "pooling": "last-token", "normalize": True, "max_tokens": MAX_SEQ_LENGTH, "prompts": PROMPTS,
            "sentence_transformers_files": st_files,
            "reference": {"dimension": int(emb.shape[1]), "probe_tokens": [len(r) for r in ids],
                          "probe_pairwise_cosine": {"min": reference.f32(off.min()), "mean": reference.f32(off.mean()),
                                                    "max": reference.f32(off.max())},
                          "retrieval_top1": f"{hits}/{len(queries)}",
                          "sentence_transformers_vs_qwen3model_max_abs": float(f"{worst:.3g}")},
            "dtypes": dtypes, "failed": failed,
            "files": dc.copy_tree_files(folder),
        }
        dc.rmtree(work)
        entry["build_seconds"] = {"total": round(time.time() - t_model, 1), **steps}
        return entry


SPEC = Qwen3EmbeddingSpec()
