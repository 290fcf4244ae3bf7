"""qwen3-embedding-gqa-shape: qwen3-embedding-shape's toy Qwen3-Embedding (the same seeded
Qwen3Model weights, tokenizer appending <|endoftext|>, sentence-transformers files: last-token
pooling, normalize, Qwen3-Embedding's prompts; qwen3_embedding.make_source) exported by
onnxruntime-genai's model builder WITHOUT its LM head, so that the graph's attention is
com.microsoft.GroupQueryAttention and its output is the last hidden state:

    python -m onnxruntime_genai.models.builder -i <folder> -o <out> -p fp32 -e cpu \\
        --extra_options exclude_lm_head=true

which is the builder's documented way to get embeddings from a decoder (its README's "Exclude
language modeling head"; onnxruntime#20969, onnxruntime-genai#1127). The hub's real
Qwen/Qwen3-Embedding-0.6B folder is laid out as this one's source is (Qwen3Model's weights without
the "model." prefix, config.json's architectures Qwen3ForCausalLM: set here, as transformers writes
Qwen3Model), and the builder loads it the same way: AutoModelForCausalLM, the tied head left out.

The builder names the output "hidden_states" (exclude_lm_head renames "logits"); the graph keeps
that name, as a user's builder export has it (the library reads it as well as last_hidden_state).
Inputs: input_ids, attention_mask, past_key_values.{i}.key/value (no position_ids: GroupQueryAttention
derives each row's positions and length from the mask, assuming RIGHT padding). The builder runs in
qwen3_reranker_gqa's side venv (requirements-genai.txt); its GroupQueryAttention nodes lose their two
empty trailing inputs so that onnxruntime 1.20 loads the graph (qwen3_reranker_gqa._save_fp32).

Files: onnx/model.onnx + model.onnx_data (fp32), then quantize.py's q8 (model_quantized.onnx,
dynamic int8) and q4 (model_q4.onnx, MatMulNBits block 32), the decoder rule (no per-channel, no
reduce-range).

Reference (reference.json, the encoders' format, probe texts only: the retrieval vectors of
qwen3-embedding-shape are not repeated here, they would be the same model's): sentence-transformers on
the same folder, each probe text ALONE, cross-checked against Qwen3Model's last token
(qwen3_embedding.probe_reference). Each dtype is checked in onnxruntime: each text alone against
PyTorch, a right-padded mixed-length batch against the texts alone, and a left-padded one (recorded,
not required: it documents that the op gives the shorter rows other vectors).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import check
import decoder_common as dc
import export
import qwen3_embedding as qe
import qwen3_reranker_gqa as qr
import reference

NAME = "qwen3-embedding-gqa-shape"
OUTPUT = "hidden_states"  # the builder's name for the last hidden state when exclude_lm_head=true
MODES = ["q8", "q4"]
RECIPE = ("Qwen3Model (qwen3-embedding-shape's weights) -> onnxruntime-genai 0.10.0 model builder (-p fp32 -e cpu "
          "--extra_options exclude_lm_head=true: GroupQueryAttention, do_rotary, output hidden_states), fp32 as "
          "model.onnx + model.onnx_data; then quantize.py's q8 (model_quantized.onnx, dynamic int8) and q4 "
          "(model_q4.onnx, MatMulNBits block 32)")


def _num(x: float) -> float | None:
    """3 significant digits; None where NaN or infinite (a left-padded batch may give NaN)."""
    return float(f"{x:.3g}") if np.isfinite(x) else None


@dataclass
class Qwen3EmbeddingGqaSpec:
    name: str = NAME
    wheels: list = field(default_factory=list)

    def build(self, out_root: Path, ctx, probe: list[dict], corpus: Path, threads: int, node_modules: Path) -> dict:
        from models import sha256_file

        t_model = time.time()
        steps: dict = {}
        work = out_root / ".work" / NAME
        hf_dir, st_dir = work / "hf", work / "st"

        t0 = time.time()
        _config, model, tok_info = qe.make_source(hf_dir, st_dir, node_modules)
        # Qwen/Qwen3-Embedding-0.6B's config.json says Qwen3ForCausalLM over Qwen3Model's weights; the
        # builder picks its converter by architectures[0] and refuses "Qwen3Model", which transformers'
        # save_pretrained of a Qwen3Model writes. So the folder says what the hub's does.
        cfg_path = hf_dir / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["architectures"] = ["Qwen3ForCausalLM"]
        cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        steps["source"] = round(time.time() - t0, 1)

        # ---- reference: sentence-transformers, each probe text alone
        t0 = time.time()
        _st, inputs, ids, emb, worst = qe.probe_reference(st_dir, model, probe)
        ref = {
            "model": NAME,
            "pooling": "last-token",
            "normalize": True,
            "maxTokens": qe.MAX_SEQ_LENGTH,
            "prompts": qe.PROMPTS,
            "positions": "each text alone (0..n-1): batch-invariant, as MODELS.md asks",
            "probe": qe.probe_entries(probe, inputs, ids, emb),
        }
        steps["reference"] = round(time.time() - t0, 1)
        dc.log(f"    reference: dim {emb.shape[1]}, last-token, {len(ids)} probe texts of {min(map(len, ids))}.."
               f"{max(map(len, ids))} tokens, ST vs Qwen3Model {worst:.1e} ({steps['reference']} s)")

        # ---- export: onnxruntime-genai's builder, no LM head
        t0 = time.time()
        py = qr._genai_python(work)
        steps["genai_venv"] = round(time.time() - t0, 1)
        t0 = time.time()
        gqa_dir = work / "genai"
        qr._genai_build(py, hf_dir, gqa_dir, work, ("exclude_lm_head=true",))
        folder = out_root / NAME
        onnx_dir = folder / "onnx"
        onnx_dir.mkdir(parents=True)
        fp32 = onnx_dir / "model.onnx"
        trimmed = qr._save_fp32(gqa_dir / "model.onnx", fp32)
        for f in ["config.json", "tokenizer.json", "tokenizer_config.json"]:
            shutil.copy2(hf_dir / f, folder / f)
        shutil.copy2(gqa_dir / "genai_config.json", folder / "genai_config.json")
        export.set_external_data_flag(folder / "config.json", "model.onnx")
        st_files = export.copy_sentence_transformers_files(st_dir, folder)
        steps["export"] = round(time.time() - t0, 1)
        outputs = [o["name"] for o in check.describe(fp32)["outputs"]]
        if outputs[0] != OUTPUT or "logits" in outputs:
            raise AssertionError(f"the builder's exclude_lm_head graph has outputs {outputs}; expected {OUTPUT} first, no logits")
        dc.log(f"  fp32 exported by onnxruntime-genai, outputs {outputs} ({steps['export']} s)")

        want = np.array([p["embedding"] for p in ref["probe"]], dtype=np.float64)
        # The batches: every text but the longest (805 tokens, which would pad all the others to it), of
        # mixed lengths, shortest first.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))[: len(ids) - 1]

        def last_token(sess, rows: list[list[int]], side: str) -> np.ndarray:
            feeds, mask = dc.decoder_feeds(sess, rows, dc.ENDOFTEXT_ID, side)
            h = sess.run([OUTPUT], feeds)[0].astype(np.float64)
            v = dc.last_real(h, mask)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        def verify(dtype: str, path: Path, notes: dict) -> dict:
            """Each text alone vs PyTorch; a right-padded mixed batch vs alone (GroupQueryAttention's
            contract); a left-padded one vs alone, recorded (null: NaN in it)."""
            info = {**check.describe(path), **notes}
            sess = dc.ort_session(path, threads)
            alone = np.stack([last_token(sess, [r], "right")[0] for r in ids])
            if not np.isfinite(alone).all():
                raise FloatingPointError(f"{path.name}: non-finite {OUTPUT}")
            rows = [ids[i] for i in order]
            right = last_token(sess, rows, "right")
            left = last_token(sess, rows, "left")
            cos = (alone * want).sum(1)
            info.update(ran_in_onnxruntime=True,
                        cosine_to_reference={"min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6)},
                        right_padded_batch_vs_alone_max_abs=_num(np.abs(right - alone[order]).max()),
                        left_padded_batch_vs_alone_max_abs=_num(np.abs(left - alone[order]).max()),
                        left_padded_batch_cos_to_alone_min=_num((left * alone[order]).sum(1).min()))
            info["summary"] = (f"cos>= {cos.min():.5f}  right-batch-vs-alone {info['right_padded_batch_vs_alone_max_abs']}  "
                               f"left-batch-vs-alone {info['left_padded_batch_vs_alone_max_abs']} (null: NaN)")
            return info

        t0 = time.time()
        dtypes = {"fp32": verify("fp32", fp32, {"route": "onnxruntime-genai model builder 0.10.0, exclude_lm_head=true",
                                           "gqa_nodes_trimmed_of_empty_trailing_inputs": trimmed})}
        dc.log(f"  fp32   model.onnx (+ model.onnx_data) {dtypes['fp32']['total_bytes']:>12,} bytes  {dtypes['fp32']['summary']}")
        steps["fp32_check"] = round(time.time() - t0, 1)
        f = dtypes["fp32"]
        right = f["right_padded_batch_vs_alone_max_abs"]
        if f["cosine_to_reference"]["min"] < 0.99999 or right is None or right > 1e-5:
            raise AssertionError(f"fp32 GroupQueryAttention export disagrees with PyTorch or with itself alone: {f['summary']}")
        more, failed = dc.build_dtypes(folder, fp32, "qwen3", verify, MODES)
        dtypes.update(more)
        for mode in MODES:
            steps[mode] = dtypes[mode].get("seconds")

        reference.write_reference(ref, folder / "reference.json")
        genai_pins = [l for l in (qr.HERE / "requirements-genai.txt").read_text().splitlines() if l and not l.startswith("#")]
        entry = {
            "folder": NAME, "model_type": "qwen3", "recipe": RECIPE, "genai_pins": genai_pins,
            "source": {"kind": "random weights in the real model's architecture, toy size (qwen3-embedding-shape's)",
                       "shape_of": "Qwen/Qwen3-Embedding-0.6B, exported by onnxruntime-genai's builder without LM head",
                       "seed": qe.SEED, "init": dc.INIT_NOTE, "config": dc.QWEN3_SHAPE, "tokenizer": tok_info,
                       "model_safetensors_sha256": sha256_file(hf_dir / "model.safetensors")},
            "pooling": "last-token", "normalize": True, "max_tokens": qe.MAX_SEQ_LENGTH, "prompts": qe.PROMPTS,
            "sentence_transformers_files": st_files,
            "reference": {"dimension": int(emb.shape[1]), "probe_tokens": [len(r) for r in ids],
                          "sentence_transformers_vs_qwen3model_max_abs": float(f"{worst:.3g}")},
            "dtypes": dtypes, "failed": failed,
            "files": dc.copy_tree_files(folder),
        }
        dc.rmtree(work)
        entry["build_seconds"] = {"total": round(time.time() - t_model, 1), **steps}
        return entry


SPEC = Qwen3EmbeddingGqaSpec()
