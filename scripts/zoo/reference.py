"""PyTorch reference embeddings: sentence-transformers (fp32, CPU, normalize_embeddings=True) on
the saved sentence-transformers folder, before any ONNX export, so that every ONNX file and the
library are held to what the model's own Python stack answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Our prompt names -> the names sentence-transformers' config uses for them (E5 says "passage").
DOCUMENT_PROMPT_NAMES = ("document", "passage")


def f32(x: float) -> float:
    """A float32 value written with 9 significant digits: enough to give back the same float32,
    without the noise digits of its double expansion."""
    return float(f"{float(np.float32(x)):.9g}")


def vec(v: np.ndarray) -> list[float]:
    return [f32(x) for x in v.tolist()]


def load_st(st_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(st_dir), device="cpu", local_files_only=True)


def prompt_names(st) -> dict[str, str | None]:
    """Our task -> the name of the sentence-transformers prompt that serves it (None: no prompt).
    sentence-transformers may list empty "query"/"document" prompts besides E5's "passage"."""
    prompts = st.prompts or {}
    doc = next((n for n in DOCUMENT_PROMPT_NAMES if prompts.get(n)), None)
    return {"query": "query" if prompts.get("query") else None, "document": doc}


def model_prompts(st) -> dict[str, str]:
    return {task: (st.prompts[name] if name else "") for task, name in prompt_names(st).items()}


def pooling_of(st) -> str:
    pooling = next(m for m in st if type(m).__name__ == "Pooling")
    mode = pooling.get_pooling_mode_str()
    if mode not in ("mean", "cls"):
        raise ValueError(f"pooling {mode} is not one the references describe")
    return mode


def token_counts(st, inputs: list[str]) -> list[int]:
    """Tokens sentence-transformers feeds for each input: after its truncation to max_seq_length,
    special tokens included."""
    return [int(st.tokenize([t])["attention_mask"].sum()) for t in inputs]


def encode(st, inputs: list[str]) -> np.ndarray:
    # The prompt is already part of each input, so encode() is given no prompt of its own.
    return st.encode(inputs, batch_size=16, normalize_embeddings=True, convert_to_numpy=True,
                     show_progress_bar=False)


def compute_reference(name: str, st_dir: Path, probe_texts: list[dict], corpus_dir: Path, log) -> tuple[dict, dict]:
    """Returns (reference.json's content, facts for the manifest)."""
    st = load_st(st_dir)
    prompts = model_prompts(st)
    pooling = pooling_of(st)
    normalize = any(type(m).__name__ == "Normalize" for m in st)
    if not normalize:
        raise ValueError(f"{name}: the references assume a Normalize module")

    inputs = [prompts[p["task"]] + p["text"] for p in probe_texts]
    # sentence-transformers strips every input before tokenizing; the probe texts are written so that
    # this changes nothing, and "input" is then exactly what the tokenizer saw.
    if any(t != t.strip() for t in inputs):
        raise ValueError(f"{name}: a probe input starts or ends with whitespace, which sentence-transformers would strip")
    emb = encode(st, inputs)
    counts = token_counts(st, inputs)

    # The prompt as sentence-transformers applies it by name must give the same vectors as our
    # "prompt + text" (it would not if the pooling left the prompt out: include_prompt=False).
    for task, st_name in prompt_names(st).items():
        if st_name is None:
            continue
        idx = [i for i, p in enumerate(probe_texts) if p["task"] == task][:3]
        by_name = st.encode([probe_texts[i]["text"] for i in idx], prompt_name=st_name, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
        if not np.allclose(by_name, emb[idx], atol=1e-5):
            raise AssertionError(f"{name}: prompt_name={st_name!r} disagrees with prompt + text")

    # Every text must fit except the long one, which must be cut, for every tokenizer.
    untruncated = [len(st.tokenizer(t)["input_ids"]) for t in inputs]
    cut = [i for i, (a, b) in enumerate(zip(untruncated, counts)) if a > b]
    if not cut or any(counts[i] != st.max_seq_length for i in cut):
        raise AssertionError(f"{name}: expected a probe text cut at {st.max_seq_length} tokens; got {cut}")

    queries = json.loads((corpus_dir / "paragraph-queries.json").read_text())
    paragraphs = json.loads((corpus_dir / "paragraphs.json").read_text())
    q_in = [prompts["query"] + q["query"] for q in queries]
    p_in = [prompts["document"] + p["text"] for p in paragraphs]
    if any(t != t.strip() for t in q_in + p_in):
        raise ValueError(f"{name}: a corpus text starts or ends with whitespace, which sentence-transformers would strip")
    q_emb = encode(st, q_in)
    p_emb = encode(st, p_in)

    # How well the reference itself retrieves (top-1), and how spread out the probe vectors are: a
    # random-weight model gives vectors that all look alike, which makes loose tolerances meaningless.
    expected = {p["id"]: i for i, p in enumerate(paragraphs)}
    top1 = np.argmax(q_emb @ p_emb.T, axis=1)
    hits = int(sum(int(top1[i]) == expected[q["expected"]] for i, q in enumerate(queries)))
    sims = emb @ emb.T
    off = sims[~np.eye(len(emb), dtype=bool)]

    ref = {
        "model": name,
        "pooling": pooling,
        "normalize": True,
        "maxTokens": int(st.max_seq_length),
        "prompts": prompts,
        "probe": [
            {"text": p["text"], "task": p["task"], "input": inputs[i], "tokens": counts[i], "embedding": vec(emb[i])}
            for i, p in enumerate(probe_texts)
        ],
        "retrieval": {"queries": [vec(v) for v in q_emb], "paragraphs": [vec(v) for v in p_emb]},
    }
    facts = {
        "dimension": int(emb.shape[1]),
        "probe_tokens": counts,
        "probe_untruncated_tokens": untruncated,
        "probe_pairwise_cosine": {"min": f32(off.min()), "mean": f32(off.mean()), "max": f32(off.max())},
        "retrieval_top1": f"{hits}/{len(queries)}",
    }
    log(f"    reference: dim {emb.shape[1]}, {pooling} pooling, max {st.max_seq_length} tokens, "
        f"probe cosines {off.min():.3f}..{off.max():.3f} (mean {off.mean():.3f}), retrieval top-1 {hits}/{len(queries)}")
    return ref, facts


def published_similarity_check(st_dir: Path, log) -> dict:
    """sentence-transformers' README example with all-MiniLM-L6-v2: the three cosine similarities
    it prints. Matching them (to 0.001) shows the weights are the published model's."""
    st = load_st(st_dir)
    sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    e = st.encode(sentences, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    got = {"0-1": float(e[0] @ e[1]), "0-2": float(e[0] @ e[2]), "1-2": float(e[1] @ e[2])}
    published = {"0-1": 0.6660, "0-2": 0.1046, "1-2": 0.1411}
    log("    README similarities: " + ", ".join(f"{k} {got[k]:.4f} (published {published[k]:.4f})" for k in got))
    worst = max(abs(got[k] - published[k]) for k in got)
    if worst > 0.001:
        raise AssertionError(f"all-MiniLM-L6-v2 similarities {got} differ from the published {published} by {worst:.4f}")
    return {"sentences": sentences, "computed": {k: round(v, 6) for k, v in got.items()}, "published": published,
            "max_abs_difference": round(worst, 6), "passed": True}


def write_reference(ref: dict, path: Path) -> None:
    # Compact: about 1.5 MB per model (24 probe vectors and 280 retrieval vectors).
    path.write_text(json.dumps(ref, ensure_ascii=False, separators=(",", ":")) + "\n")
