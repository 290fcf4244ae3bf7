#!/usr/bin/env python3
"""Exports an NV-Embed checkpoint into the model folder webgpu-embed reads.

    python scripts/export/nv_embed.py CHECKPOINT OUT [--dtypes fp32,fp16,q4,q4f16]
                                      [--instruction TEXT] [--max-chunk-bytes N] [--no-verify]

CHECKPOINT is a local folder in nvidia/NV-Embed-v2's Hugging Face layout (NV-Embed-v1's is the same):
  config.json            model_type "nvembed": text_config (the Mistral decoder's MistralConfig),
                         latent_attention_config, is_mask_instruction, add_eos, padding_side
  model.safetensors, or model-0000k-of-0000n.safetensors + model.safetensors.index.json
                         embedding_model.*         the Mistral decoder (MistralModel's names)
                         latent_attention_model.*  the latent-attention pooling head
  tokenizer.json         (+ tokenizer_config.json, special_tokens_map.json)

OUT (it must not exist yet) receives:
  config.json                    the checkpoint's, plus "transformers.js_config" naming the
                                 external data files of each graph
  tokenizer.json, tokenizer_config.json, special_tokens_map.json     copied
  config_sentence_transformers.json   prompts: query "Instruct: <instruction>\\nQuery: ", document ""
  latent_attention.safetensors   every latent_attention_model.* tensor, names and dtype kept
  onnx/model.onnx + model.onnx_data[, model.onnx_data_1, ...]        the decoder, fp32
  onnx/model_fp16.onnx, model_q4.onnx, model_q4f16.onnx (+ their _data files), when asked

The decoder graph: input_ids, attention_mask, position_ids [B, T] int64 -> last_hidden_state
[B, T, H] float32. Its attention is BIDIRECTIONAL, as NV-Embed was trained: the mask only hides
padded keys (transformers' _prepare_4d_attention_mask, the helper NV-Embed's own
BidirectionalMistralModel calls), there is no causal part. Positions are an input, so the caller
counts them over each row's real tokens and left or right padding give the same states. The
pooling head is not in the graph: the library runs it (WGSL on WebGPU, src/reference on wasm) from
latent_attention.safetensors, with the keys and values of the latents computed once at load.

Weights live in external data files of at most --max-chunk-bytes each (default 2 GiB): named
model.onnx_data, model.onnx_data_1, ... as transformers.js reads them, and listed in config.json.
The other dtypes are made from the fp32 graph with the settings transformers.js' quantize.py uses
(scripts/zoo/quantize.py): fp16 keeps fp32 inputs/outputs; q4 puts every MatMul weight in 4-bit
blocks of 32 (com.microsoft MatMulNBits, symmetric; the token embedding, a Gather, stays fp32);
q4f16 is q4 then the fp16 conversion. Each is checked, like fp32, against the PyTorch model below
unless --no-verify.

The PyTorch model (NVEmbedShape) is written here from NV-Embed's description: its paper, the
model card and the modeling_nvembed.py published with the checkpoint, which was read but not copied
(its licence is CC-BY-NC-4.0). It keeps NV-Embed's parameter names, so the checkpoint loads into
it as it is: transformers' MistralModel with that 4-D bidirectional mask, eager attention, and a
latent-attention module (LayerNorm'd hidden states attend to LayerNorm'd latents, 8 heads, no
mask, residual; LayerNorm + GEGLU feed-forward + residual; mean over the pooling mask; L2
normalization when output_normalize). `nv_embed_encode` is NV-Embed's encode() recipe:
instruction + text + EOS, right padding with the EOS as pad, the first len(tokenize(instruction))
positions out of the mean. scripts/zoo/nv_embed.py builds the zoo's nv-embed-shape model with this
same code and checks the library against it.

Needs the zoo's Python tools (pip install -r scripts/zoo/requirements.txt): torch, transformers,
safetensors, onnx, onnxruntime, onnxconverter-common, onnxslim. Memory: the decoder is held in
float32 (NV-Embed-v2: 7.1e9 parameters, 28.4 GB), and each extra dtype is made from the fp32 graph
held in memory, so plan for a machine with well over that much RAM; nothing here needs a GPU.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import logging
import shutil
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZOO = HERE.parent / "zoo"  # quantize.py and export.py: the hub's dtype recipe, shared with the zoo

TEXT_PREFIX = "embedding_model."
HEAD_PREFIX = "latent_attention_model."
# NV-Embed-v2's model card: the retrieval instruction of its example.
DEFAULT_INSTRUCTION = "Given a question, retrieve passages that answer the question"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
DTYPE_FILES = {"fp32": "model.onnx", "fp16": "model_fp16.onnx", "q4": "model_q4.onnx", "q4f16": "model_q4f16.onnx"}
DEFAULT_CHUNK_BYTES = 2 * 1024**3
# onnx.save's default: smaller tensors (shape constants) stay inside the graph.
EXTERNAL_THRESHOLD = 1024
OPSET = 17
# text_config keys that are NV-Embed's or the hub's, not MistralConfig's.
NOT_MISTRAL = {"model_type", "architectures", "_name_or_path", "auto_map", "transformers_version"}


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# The PyTorch model, in NV-Embed's parameter names


@functools.lru_cache(maxsize=None)
def _modules():
    """The torch classes, made on first use so that --help works without torch."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class PreNorm(nn.Module):
        """LayerNorm of the input (`norm`) and, for cross-attention, of the context (`norm_context`)."""

        def __init__(self, dim: int, fn: nn.Module, context_dim: int | None = None):
            super().__init__()
            self.fn = fn
            self.norm = nn.LayerNorm(dim)
            self.norm_context = nn.LayerNorm(context_dim) if context_dim is not None else None

        def forward(self, x, context=None):
            x = self.norm(x)
            if self.norm_context is None:
                return self.fn(x)
            return self.fn(x, self.norm_context(context))

    class CrossAttention(nn.Module):
        """Queries from x, keys and values from the context (the first and second half of to_kv's
        output), heads as contiguous column blocks, softmax(q·kᵀ/√dim_head) with no mask, no biases."""

        def __init__(self, query_dim: int, context_dim: int, heads: int, dim_head: int):
            super().__init__()
            inner = heads * dim_head
            self.heads = heads
            self.to_q = nn.Linear(query_dim, inner, bias=False)
            self.to_kv = nn.Linear(context_dim, 2 * inner, bias=False)
            self.to_out = nn.Linear(inner, query_dim, bias=False)

        def forward(self, x, context):
            q = self.to_q(x)
            k, v = self.to_kv(context).chunk(2, dim=-1)

            def heads(t):  # [B, n, h·dh] -> [B, h, n, dh]
                return t.reshape(t.shape[0], t.shape[1], self.heads, -1).transpose(1, 2)

            out = F.scaled_dot_product_attention(heads(q), heads(k), heads(v))  # scale 1/√dh
            return self.to_out(out.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1))

    class GEGLU(nn.Module):
        def forward(self, x):
            x, gates = x.chunk(2, dim=-1)
            return x * F.gelu(gates)  # the exact (erf) GELU

    class FeedForward(nn.Module):
        def __init__(self, dim: int, mult: int = 4):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(dim, dim * mult * 2), GEGLU(), nn.Linear(dim * mult, dim))

        def forward(self, x):
            return self.net(x)

    class LatentAttentionHead(nn.Module):
        """latent_attention_model.*: latents [r, d]; cross_attend_blocks.0 (PreNorm + CrossAttention,
        the hidden states as queries, the latents as context), cross_attend_blocks.1 (PreNorm +
        FeedForward), each with a residual; then the mean over the pooling mask, L2-normalized when
        output_normalize."""

        def __init__(self, cfg: dict):
            super().__init__()
            d, ctx = int(cfg["latent_dim"]), int(cfg["hidden_dim"])
            self.cross_attend_blocks = nn.ModuleList([
                PreNorm(d, CrossAttention(d, ctx, int(cfg["num_cross_heads"]), int(cfg["cross_dim_head"])), context_dim=ctx),
                PreNorm(d, FeedForward(d)),
            ])
            self.output_normalize = bool(cfg.get("output_normalize", True))
            self.latents = nn.Parameter(torch.randn(int(cfg["num_latents_value"]), d))

        def tokens(self, hiddens):
            """The head's per-token output, before the mean: [B, T, d]."""
            attn, ff = self.cross_attend_blocks
            context = self.latents.unsqueeze(0).expand(hiddens.shape[0], -1, -1)
            h = attn(hiddens, context) + hiddens
            return ff(h) + h

        def forward(self, hiddens, pool_mask):
            h = self.tokens(hiddens)
            w = pool_mask.to(h.dtype).unsqueeze(-1)
            pooled = (h * w).sum(dim=1) / w.sum(dim=1)
            return F.normalize(pooled, p=2, dim=-1) if self.output_normalize else pooled

    class NVEmbedShape(nn.Module):
        """embedding_model (a bidirectional MistralModel) + latent_attention_model."""

        def __init__(self, config: dict, decoder: nn.Module | None = None):
            super().__init__()
            self.embedding_model = decoder if decoder is not None else bidirectional_mistral(config)
            self.latent_attention_model = LatentAttentionHead(config["latent_attention_config"])
            self.mask_instruction = config.get("is_mask_instruction") is True
            self.padding_side = config.get("padding_side", "right")

        def hidden_states(self, input_ids, attention_mask, position_ids=None):
            return decoder_hidden_states(self.embedding_model, input_ids, attention_mask, position_ids)

        def forward(self, input_ids, attention_mask, pool_mask):
            return self.latent_attention_model(self.hidden_states(input_ids, attention_mask), pool_mask)

    class DecoderGraph(nn.Module):
        """What the ONNX graph holds: the decoder alone, with positions as an input."""

        def __init__(self, decoder: nn.Module):
            super().__init__()
            self.decoder = decoder

        def forward(self, input_ids, attention_mask, position_ids):
            return decoder_hidden_states(self.decoder, input_ids, attention_mask, position_ids)

    return {"LatentAttentionHead": LatentAttentionHead, "NVEmbedShape": NVEmbedShape, "DecoderGraph": DecoderGraph}


def mistral_config(config: dict):
    """The decoder's MistralConfig from NV-Embed's text_config, with eager attention (as
    NV-Embed's BidirectionalMistralModel sets)."""
    from transformers import MistralConfig

    text = {k: v for k, v in config["text_config"].items() if k not in NOT_MISTRAL}
    cfg = MistralConfig(**text)
    cfg._attn_implementation = "eager"
    return cfg


def bidirectional_mistral(config: dict, *, meta: bool = False):
    """transformers' MistralModel with every layer marked non-causal (the mask passed in decides)."""
    import torch
    from transformers import MistralModel

    cfg = mistral_config(config)
    if meta:
        with torch.device("meta"):
            model = MistralModel(cfg)
    else:
        model = MistralModel(cfg)
    for layer in model.layers:
        layer.self_attn.is_causal = False
    return model.eval()


def decoder_hidden_states(decoder, input_ids, attention_mask, position_ids=None):
    """last_hidden_state with bidirectional attention: transformers' _prepare_4d_attention_mask
    (the 4-D mask NV-Embed builds: 0 for real keys, the dtype's lowest value for padded ones, the
    same for every query) goes in as it is; a 4-D mask is used unchanged by MistralModel."""
    from transformers.modeling_attn_mask_utils import _prepare_4d_attention_mask

    dtype = decoder.embed_tokens.weight.dtype
    mask = _prepare_4d_attention_mask(attention_mask, dtype)
    out = decoder(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=False)
    return out.last_hidden_state


def latent_head_class():
    return _modules()["LatentAttentionHead"]


def nv_embed_class():
    return _modules()["NVEmbedShape"]


# ---------------------------------------------------------------------------------------------
# The checkpoint


def read_config(ckpt: Path) -> dict:
    path = ckpt / "config.json"
    if not path.is_file():
        raise SystemExit(f"{ckpt} has no config.json: give the folder of an NV-Embed checkpoint")
    config = json.loads(path.read_text())
    missing = [k for k in ("text_config", "latent_attention_config") if not isinstance(config.get(k), dict)]
    if missing:
        raise SystemExit(f"{path} has no {' / '.join(missing)}: this is not an NV-Embed config.json (model_type {config.get('model_type')!r})")
    return config


def weight_files(ckpt: Path) -> list[Path]:
    index = ckpt / "model.safetensors.index.json"
    if index.is_file():
        return [ckpt / n for n in sorted(set(json.loads(index.read_text())["weight_map"].values()))]
    if (ckpt / "model.safetensors").is_file():
        return [ckpt / "model.safetensors"]
    raise SystemExit(f"{ckpt} has neither model.safetensors nor model.safetensors.index.json (a pytorch_model*.bin "
                     "checkpoint: load it and save it again with safe_serialization=True first)")


def read_tensors(files: list[Path], prefix: str) -> dict:
    """Every tensor whose name starts with prefix, as stored (dtype kept)."""
    from safetensors import safe_open

    out = {}
    for f in files:
        with safe_open(str(f), framework="pt") as st:
            for name in st.keys():
                if name.startswith(prefix):
                    out[name] = st.get_tensor(name)
    return out


def load_decoder(ckpt: Path, config: dict, dtype=None):
    """The bidirectional MistralModel with the checkpoint's embedding_model.* weights, in `dtype`
    (float32 by default). Made on the meta device and filled shard by shard, so the only full
    copy in memory is the model's own."""
    import torch
    from safetensors import safe_open

    dtype = dtype or torch.float32
    model = bidirectional_mistral(config, meta=True)
    expected = set(model.state_dict())
    seen = set()
    for f in weight_files(ckpt):
        part = {}
        with safe_open(str(f), framework="pt") as st:
            for name in st.keys():
                # rotary_emb.inv_freq: a buffer some older saves kept; it is recomputed below.
                if name.startswith(TEXT_PREFIX) and not name.endswith("rotary_emb.inv_freq"):
                    part[name[len(TEXT_PREFIX):]] = st.get_tensor(name).to(dtype)
        unknown = set(part) - expected
        if unknown:
            raise SystemExit(f"{f.name}: {len(unknown)} embedding_model.* tensors MistralModel does not have, e.g. {sorted(unknown)[:3]}")
        model.load_state_dict(part, strict=False, assign=True)
        seen |= set(part)
        del part
    if expected - seen:
        raise SystemExit(f"{ckpt}: the checkpoint lacks {len(expected - seen)} decoder tensors, e.g. embedding_model.{sorted(expected - seen)[0]}")
    # The rotary frequencies are a buffer computed at construction, not stored: make them on the CPU.
    model.rotary_emb = type(model.rotary_emb)(config=model.config)
    left = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if left:
        raise RuntimeError(f"decoder tensors never loaded: {left[:5]}")
    return model.eval()


def load_head(ckpt: Path, config: dict, dtype=None):
    import torch

    head = latent_head_class()(config["latent_attention_config"])
    tensors = read_tensors(weight_files(ckpt), HEAD_PREFIX)
    state = {k[len(HEAD_PREFIX):]: v.to(dtype or torch.float32) for k, v in tensors.items()}
    head.load_state_dict(state, strict=True)  # every name NV-Embed's head has, and no other
    return head.eval()


def load_model(ckpt: Path, dtype=None):
    """The whole NVEmbedShape of a checkpoint folder, and its config.json."""
    config = read_config(ckpt)
    model = nv_embed_class()(config, decoder=load_decoder(ckpt, config, dtype))
    model.latent_attention_model = load_head(ckpt, config, dtype)
    return model.eval(), config


def load_tokenizer(folder: Path, config: dict):
    """The fast tokenizer as NV-Embed's add_pad_token() sets it: the EOS as pad, the config's padding side."""
    from transformers import AutoTokenizer

    if not (folder / "tokenizer.json").is_file():
        raise SystemExit(f"{folder} has no tokenizer.json (the library reads that file; with only tokenizer.model, "
                         "load it with transformers' LlamaTokenizerFast and save_pretrained it first)")
    tok = AutoTokenizer.from_pretrained(str(folder), use_fast=True)
    tok.pad_token = tok.eos_token
    tok.padding_side = config.get("padding_side", "right")
    return tok


def nv_embed_encode(model, tokenizer, texts: list[str], instruction: str = "", max_length: int = 32768):
    """NV-Embed's encode(), in one batch: each input is instruction + text + the EOS token's text,
    tokenized with the tokenizer's special tokens (Mistral: <s> first), padded; the pooling mask
    is the attention mask with positions [0, len(tokenize(instruction))) zeroed when the model
    masks instructions (right padding only, as NV-Embed's code has it). Returns (vectors, batch,
    instruction tokens)."""
    import torch

    batch = tokenizer([instruction + t + tokenizer.eos_token for t in texts], padding=True, truncation=True,
                      max_length=max_length, return_token_type_ids=False, return_tensors="pt")
    pool = batch["attention_mask"].clone()
    n = len(tokenizer.tokenize(instruction)) if instruction and model.mask_instruction and model.padding_side == "right" else 0
    pool[:, :n] = 0
    with torch.no_grad():
        vectors = model(batch["input_ids"], batch["attention_mask"], pool)
    return vectors, batch, n


# ---------------------------------------------------------------------------------------------
# ONNX


def export_decoder(decoder, path: Path) -> None:
    """torch.onnx's TorchScript exporter (dynamo=False), batch and sequence axes dynamic. The
    example batch has a padded row so that nothing about padding is folded into constants."""
    import torch

    graph = _modules()["DecoderGraph"](decoder).eval()
    ids = torch.tensor([[1, 10, 11, 12, 2], [1, 20, 2, 2, 2]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.long)
    pos = (mask.cumsum(-1) - 1).clamp(min=0) * mask
    axes = {0: "batch_size", 1: "sequence_length"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo (this one is what the checks
        # here cover); the mask helper's torch.tensor(1.0) is a constant indeed.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*registered as constants in the trace.*")
        torch.onnx.export(graph, (ids, mask, pos), str(path), input_names=["input_ids", "attention_mask", "position_ids"],
                          output_names=["last_hidden_state"], opset_version=OPSET, do_constant_folding=True, dynamo=False,
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "position_ids": axes, "last_hidden_state": axes})


def save_chunked(model, path: Path, max_chunk_bytes: int) -> list[str]:
    """Saves `model` as path + external data files of at most max_chunk_bytes each (a tensor larger
    than that gets a file of its own): <name>_data, <name>_data_1, ... beside it, as transformers.js
    reads them. Tensors under 1 KiB stay in the graph. Returns the data files' names."""
    import onnx
    from onnx.external_data_helper import set_external_data, write_external_data_tensors

    for old in path.parent.glob(path.name + "_data*"):
        old.unlink()
    files: list[str] = []
    used = max_chunk_bytes  # start a first file on the first tensor
    for t in model.graph.initializer:
        if not t.HasField("raw_data") or len(t.raw_data) < EXTERNAL_THRESHOLD:
            continue
        if used + len(t.raw_data) > max_chunk_bytes and used > 0:
            files.append(path.name + "_data" + (f"_{len(files)}" if files else ""))
            used = 0
        set_external_data(t, files[-1])
        used += len(t.raw_data)
    write_external_data_tensors(model, str(path.parent))
    onnx.save_model(model, str(path))
    return files


# WebGPU's default limits (what a device gets unless it asks for more).
WEBGPU_DEFAULT_BINDING = 128 * 1024**2  # maxStorageBufferBindingSize
WEBGPU_DEFAULT_BUFFER = 256 * 1024**2  # maxBufferSize
WASM32_MEMORY = 4 * 1024**3


def size_notes(model, dtype: str) -> dict:
    """The graph's weight bytes and its largest tensor, with a warning for each WebGPU default limit
    (and the 4 GiB of a 32-bit WebAssembly memory) they pass."""
    total, name, largest = 0, "", 0
    for t in model.graph.initializer:
        n = len(t.raw_data)
        total += n
        if n > largest:
            name, largest = t.name, n
    warnings = []
    mib = lambda b: f"{b / 1024**2:,.0f} MiB"  # noqa: E731
    if largest > WEBGPU_DEFAULT_BUFFER:
        warnings.append(f"{dtype}: tensor {name} is {mib(largest)}, over WebGPU's default maxBufferSize (256 MiB): the GPU must grant more")
    elif largest > WEBGPU_DEFAULT_BINDING:
        warnings.append(f"{dtype}: tensor {name} is {mib(largest)}, over WebGPU's default maxStorageBufferBindingSize (128 MiB): the GPU must grant more")
    if total > WASM32_MEMORY:
        warnings.append(f"{dtype}: {total / 1e9:.2f} GB of weights, over the 4 GiB a 32-bit WebAssembly memory (onnxruntime-web) can address")
    return {"weight_bytes": total, "largest_tensor": {"name": name, "bytes": largest}, "warnings": warnings}


def slim(model, log_fn=log):
    """onnxslim, as transformers.js' convert.py runs it on every export; a failure keeps the graph as it was."""
    import onnxslim

    try:
        return onnxslim.slim(model)
    except Exception as e:  # noqa: BLE001 - slimming is an optimization
        log_fn(f"    onnxslim failed ({type(e).__name__}: {e}); keeping the unslimmed graph")
        return model


def make_dtype(dtype: str, fp32_model):
    """Another dtype from the fp32 graph (a copy: the converters edit in place), with the settings of
    transformers.js' quantize.py (scripts/zoo/quantize.py)."""
    import onnx

    if str(ZOO) not in sys.path:
        sys.path.insert(0, str(ZOO))
    import quantize

    # onnxruntime's quantization modules switch the root logger to INFO (a line per node) on import.
    logging.getLogger().setLevel(logging.WARNING)
    model = onnx.ModelProto()
    model.CopyFrom(fp32_model)
    with warnings.catch_warnings():
        # float16's notes that the mask's lowest float32 becomes -10000 (still exp() = 0) and that
        # tiny weights round to fp16's smallest: expected for any fp16 conversion.
        warnings.simplefilter("ignore", UserWarning)
        if dtype == "fp16":
            return quantize.to_fp16(model)
        if dtype == "q4":
            return quantize.to_q4(model)
        if dtype == "q4f16":
            return quantize.to_fp16(quantize.to_q4(model))
    raise ValueError(f"unknown dtype {dtype}; this script makes {', '.join(DTYPE_FILES)}")


def ort_hidden_states(session, rows: list[list[int]], pad_id: int, side: str = "right"):
    """Runs the exported decoder on token rows padded on `side`, positions counted over real tokens
    (as the library feeds them). Returns (last_hidden_state [B, T, H] float64, mask [B, T])."""
    import numpy as np

    B, T = len(rows), max(len(r) for r in rows)
    ids = np.full((B, T), pad_id, dtype=np.int64)
    mask = np.zeros((B, T), dtype=np.int64)
    pos = np.zeros((B, T), dtype=np.int64)
    for b, r in enumerate(rows):
        s = T - len(r) if side == "left" else 0
        ids[b, s:s + len(r)] = r
        mask[b, s:s + len(r)] = 1
        pos[b, s:s + len(r)] = np.arange(len(r))
    h = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "position_ids": pos})[0]
    return h.astype(np.float64), mask


def ort_session(path: Path, threads: int = 0):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def pooled_from_ort(session, head, rows: list[list[int]], skips: list[int], pad_id: int):
    """Each row ALONE through the ONNX decoder, then the PyTorch head (float64): the vectors this
    graph gives with NV-Embed's own pooling."""
    import numpy as np
    import torch

    head64 = copy.deepcopy(head).double()
    out = []
    with torch.no_grad():
        for r, skip in zip(rows, skips):
            h, mask = ort_hidden_states(session, [r], pad_id)
            pool = torch.tensor(mask, dtype=torch.float64)
            pool[:, :skip] = 0
            v = head64(torch.tensor(h), pool)[0].numpy()
            out.append(v / np.linalg.norm(v))
    return np.stack(out)


# ---------------------------------------------------------------------------------------------
# The folder


def export_folder(ckpt: Path, out: Path, *, dtypes=("fp32",), instruction: str = DEFAULT_INSTRUCTION,
                  max_chunk_bytes: int = DEFAULT_CHUNK_BYTES, verify_texts: list[str] | None = None,
                  threads: int = 0, log_fn=log) -> dict:
    """Writes the library's folder for checkpoint `ckpt` into `out` (which must not exist). Returns a
    report: files, sizes, and per dtype the cosine of its vectors to the PyTorch model's."""
    import numpy as np
    import onnx
    from safetensors.torch import save_file

    dtypes = list(dtypes)
    if "fp32" not in dtypes:
        dtypes.insert(0, "fp32")  # every other dtype is made from it
    unknown = [d for d in dtypes if d not in DTYPE_FILES]
    if unknown:
        raise SystemExit(f"unknown dtype {unknown}; choose from {', '.join(DTYPE_FILES)}")
    if out.exists():
        raise SystemExit(f"{out} already exists: give a new folder")
    config = read_config(ckpt)
    report: dict = {"checkpoint": str(ckpt), "dtypes": {}, "seconds": {}}
    t0 = time.time()

    # 1. the small files
    (out / "onnx").mkdir(parents=True)
    for name in TOKENIZER_FILES:
        if (ckpt / name).is_file():
            shutil.copy2(ckpt / name, out / name)
    if not (out / "tokenizer.json").is_file():
        raise SystemExit(f"{ckpt} has no tokenizer.json")
    prompts = {"query": f"Instruct: {instruction}\nQuery: ", "document": ""}
    (out / "config_sentence_transformers.json").write_text(json.dumps({"prompts": prompts, "default_prompt_name": None}, indent=2) + "\n")

    # 2. the head, names and dtype as stored
    files = weight_files(ckpt)
    head_tensors = read_tensors(files, HEAD_PREFIX)
    save_file({k: v.contiguous() for k, v in head_tensors.items()}, str(out / "latent_attention.safetensors"), metadata={"format": "pt"})
    report["latent_attention"] = {"tensors": len(head_tensors), "bytes": (out / "latent_attention.safetensors").stat().st_size,
                                  "dtypes": sorted({str(v.dtype).replace("torch.", "") for v in head_tensors.values()})}
    del head_tensors
    log_fn(f"  latent_attention.safetensors: {report['latent_attention']['tensors']} tensors, {report['latent_attention']['bytes']:,} bytes")

    # 3. the decoder, fp32
    t = time.time()
    decoder = load_decoder(ckpt, config)
    work = out / ".work"
    export_decoder(decoder, work / "model.onnx")
    fp32 = slim(onnx.load(str(work / "model.onnx")), log_fn)  # loads the exporter's external data too
    shutil.rmtree(work)
    chunks: dict[str, int] = {}
    notes = {"fp32": size_notes(fp32, "fp32")}
    data = save_chunked(fp32, out / "onnx" / DTYPE_FILES["fp32"], max_chunk_bytes)
    chunks[DTYPE_FILES["fp32"]] = len(data)
    fp32 = onnx.load(str(out / "onnx" / DTYPE_FILES["fp32"]))  # with its data, for the other dtypes
    report["seconds"]["fp32"] = round(time.time() - t, 1)
    log_fn(f"  fp32 decoder exported ({report['seconds']['fp32']} s)")

    # 4. the other dtypes
    for dtype in dtypes:
        if dtype == "fp32":
            continue
        t = time.time()
        model = make_dtype(dtype, fp32)
        notes[dtype] = size_notes(model, dtype)
        data = save_chunked(model, out / "onnx" / DTYPE_FILES[dtype], max_chunk_bytes)
        chunks[DTYPE_FILES[dtype]] = len(data)
        del model
        report["seconds"][dtype] = round(time.time() - t, 1)
        log_fn(f"  {dtype} made ({report['seconds'][dtype]} s)")
    del fp32

    # 5. config.json: the checkpoint's, plus where each graph's weights are
    out_config = dict(config)
    tjs = dict(out_config.get("transformers.js_config") or {})
    tjs["use_external_data_format"] = {name: n for name, n in chunks.items() if n}
    out_config["transformers.js_config"] = tjs
    (out / "config.json").write_text(json.dumps(out_config, indent=2) + "\n")

    for dtype in dtypes:
        p = out / "onnx" / DTYPE_FILES[dtype]
        sizes = {f.name: f.stat().st_size for f in sorted(p.parent.glob(p.name + "*"))}
        report["dtypes"][dtype] = {"file": f"onnx/{p.name}", "bytes": sizes, "total_bytes": sum(sizes.values()), **notes[dtype]}
        for w in notes[dtype]["warnings"]:
            log_fn(f"  WARNING {w}")

    # 6. check: each dtype's graph + NV-Embed's head against the PyTorch model, each text alone
    if verify_texts:
        t = time.time()
        model = nv_embed_class()(config, decoder=decoder)
        model.latent_attention_model = load_head(ckpt, config)
        tok = load_tokenizer(out, config)
        inputs = [(instruction_of(i, instruction), text) for i, text in enumerate(verify_texts)]
        want, rows, skips = [], [], []
        for inst, text in inputs:
            v, batch, n = nv_embed_encode(model, tok, [text], inst)
            want.append(v[0].double().numpy())
            rows.append(batch["input_ids"][0].tolist())
            skips.append(n)
        want = np.stack(want)
        for dtype in dtypes:
            sess = ort_session(out / "onnx" / DTYPE_FILES[dtype], threads)
            got = pooled_from_ort(sess, model.latent_attention_model, rows, skips, tok.pad_token_id)
            cos = (got * want).sum(1) / np.linalg.norm(want, axis=1)
            report["dtypes"][dtype]["cosine_to_pytorch_min"] = round(float(cos.min()), 6)
            log_fn(f"  {dtype:<6} {report['dtypes'][dtype]['total_bytes']:>15,} bytes  cos to PyTorch >= {cos.min():.6f}")
        report["seconds"]["verify"] = round(time.time() - t, 1)
        if report["dtypes"]["fp32"]["cosine_to_pytorch_min"] < 0.9999:
            raise SystemExit(f"the fp32 export disagrees with the PyTorch model: cos {report['dtypes']['fp32']['cosine_to_pytorch_min']}")
    report["seconds"]["total"] = round(time.time() - t0, 1)
    return report


def instruction_of(i: int, instruction: str) -> str:
    """Verification inputs alternate: a query (with the instruction), a passage (without)."""
    return f"Instruct: {instruction}\nQuery: " if i % 2 == 0 else ""


VERIFY_TEXTS = [
    "how much protein should a female eat",
    "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day.",
    "summit define",
    "Definition of summit for English Language Learners: the highest point of a mountain.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=Path, help="local NV-Embed checkpoint folder (Hugging Face layout, safetensors)")
    ap.add_argument("out", type=Path, help="output folder (must not exist)")
    ap.add_argument("--dtypes", default="fp32", help=f"comma-separated, from {', '.join(DTYPE_FILES)} (fp32 is always made)")
    ap.add_argument("--instruction", default=DEFAULT_INSTRUCTION, help="the default query instruction written to config_sentence_transformers.json")
    ap.add_argument("--max-chunk-bytes", type=int, default=DEFAULT_CHUNK_BYTES, help="largest external data file (default 2 GiB)")
    ap.add_argument("--no-verify", action="store_true", help="skip the check against the PyTorch model")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime threads for the check (0: its default)")
    args = ap.parse_args()
    import torch

    torch.set_grad_enabled(False)
    report = export_folder(args.checkpoint, args.out, dtypes=[d for d in args.dtypes.split(",") if d],
                           instruction=args.instruction, max_chunk_bytes=args.max_chunk_bytes,
                           verify_texts=None if args.no_verify else VERIFY_TEXTS, threads=args.threads)
    (args.out / "export_report.json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"done in {report['seconds']['total']} s: {args.out}")


if __name__ == "__main__":
    main()
