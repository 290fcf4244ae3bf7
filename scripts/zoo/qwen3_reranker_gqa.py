"""qwen3-reranker-gqa-shape: a toy-size Qwen3ForCausalLM (random seeded weights drawn as
qwen3-embedding-shape's, the real Qwen3 tokenizer) whose attention is com.microsoft
GroupQueryAttention, as onnx-community/Qwen3-Reranker-0.6B-ONNX's card says its files are
("exported with onnxruntime graph optimization level 2": GroupQueryAttention fused).

Route. The card's route (optimum's text-generation-with-past export, then onnxruntime's graph
optimization) does not give GroupQueryAttention here; checked on optimum's export of this model:
  - onnxruntime 1.20.1 transformers optimizer, optimize_model(model_type "gpt2" at opt_level 0, 2
    and 99; "bert" at 0 and 2): SimplifiedLayerNormalization, SkipSimplifiedLayerNormalization,
    QuickGelu (the SiLU), FusedMatMul; no Attention, MultiHeadAttention or RotaryEmbedding (Qwen3's
    q_norm/k_norm and its rotary subgraph match none of the fusions' patterns);
  - an onnxruntime session at ORT_ENABLE_EXTENDED ("level 2"), 1.20.1 and 1.32.0, saved with
    optimized_model_filepath: FusedMatMul and QuickGelu only;
  - onnxruntime.transformers.convert_generation (which holds replace_mha_with_gqa, the --use_gqa step
    of models/llama/convert_to_onnx.py) does not import with transformers 4.57 (quantize_helper
    imports transformers.modeling_utils.Conv1D), and would need MultiHeadAttention nodes anyway.
So the graph comes from onnxruntime-genai's model builder (`python -m
onnxruntime_genai.models.builder -i <folder> -o <out> -p fp32 -e cpu`), which writes
GroupQueryAttention for qwen3 directly (do_rotary=1 with cos/sin caches, q_norm/k_norm as
SimplifiedLayerNormalization, SkipSimplifiedLayerNormalization between blocks, the tied head
written out as its own [64, vocab] MatMul). Its inputs: input_ids, attention_mask,
past_key_values.{i}.key/value (no position_ids: GroupQueryAttention derives each row's positions
and length from the mask, assuming right padding); outputs logits [B, T, vocab] and present.*. It
runs in its own venv (requirements-genai.txt), see _genai_python; the two empty trailing inputs of
its GroupQueryAttention nodes are dropped (_trim_gqa_inputs) so onnxruntime 1.20 loads the graph.

Then fp32 as onnx/model.onnx + model.onnx_data (kept for tests: the hub ships none), and the two
files the hub ships: model_quantized.onnx (quantize.py "q8": dynamic int8, MatMul only) and
model_q4.onnx (MatMulNBits, block 32).

Reference (reference.json): the PyTorch model (Qwen3ForCausalLM) on the exact Qwen3-Reranker
template (MODELS.md), each pair ALONE, the yes/no logits (9693 / 2152) at the last token,
score = softmax([yes, no])[0]. Token ids are built as Qwen3-Reranker's own code does: the prefix
and suffix tokenized on their own, the body "<Instruct>: ...<Document>: ..." tokenized alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import check
import decoder_common as dc
import export
import reference

NAME = "qwen3-reranker-gqa-shape"
SEED = 1004
HERE = Path(__file__).resolve().parent
YES_ID, NO_ID = 9693, 2152
PREFIX = ('<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct '
          'provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n')
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
QUERY = "What is the capital of France?"
# One query, documents of mixed lengths (1 to ~60 tokens), so that a library call scores them all as one
# mixed-length batch.
DOCUMENTS = [
    "Paris is the capital and largest city of France.",
    "x",
    "Bananas are yellow.",
    "Photosynthesis is the process by which green plants and some other organisms use sunlight to synthesize "
    "foods from carbon dioxide and water. It generally involves the green pigment chlorophyll.",
    "Frankreichs Hauptstadt ist Paris; die Stadt liegt an der Seine.",
    "The Eiffel Tower is in Paris, a large city in France with many museums, bridges and cafés along the Seine, and "
    "it draws millions of visitors every year from all over the world, who come to see its iron lattice, climb its "
    "stairs, and look out over the rooftops of the city at night.",
]
PAIRS = [(QUERY, d) for d in DOCUMENTS]
MODES = ["q8", "q4"]
RECIPE = ("Qwen3ForCausalLM -> onnxruntime-genai 0.10.0 model builder (-p fp32 -e cpu: GroupQueryAttention, "
          "do_rotary), fp32 as model.onnx + model.onnx_data; then quantize.py's q8 (model_quantized.onnx, dynamic "
          "int8) and q4 (model_q4.onnx, MatMulNBits block 32), as the hub ships")


def _genai_python(work: Path) -> Path:
    """A venv that sees the running (zoo) venv's packages through a .pth file and adds
    requirements-genai.txt's pins, --no-deps."""
    venv = work / "genai-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    zoo_site = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir() and p.startswith(sys.prefix)]
    Path(site).mkdir(parents=True, exist_ok=True)
    (Path(site) / "zoo-venv.pth").write_text("\n".join(zoo_site) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                    "--no-input", "--quiet", "--target", site, "-r", str(HERE / "requirements-genai.txt")], check=True)
    return py


def _genai_build(py: Path, hf_dir: Path, out: Path, work: Path, extra_options: tuple[str, ...] = ()) -> None:
    """The builder, fp32 for the CPU; extra_options are its KEY=VALUE --extra_options (e.g.
    exclude_lm_head=true, for qwen3_embedding_gqa.py)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    extra = ["--extra_options", *extra_options] if extra_options else []
    r = subprocess.run([str(py), "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir), "-o", str(out), "-p", "fp32",
                        "-e", "cpu", "-c", str(work / "genai-cache"), *extra], env=env, capture_output=True, text=True)
    if r.returncode != 0 or not (out / "model.onnx").is_file():
        raise RuntimeError(f"onnxruntime-genai builder failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")


def _trim_gqa_inputs(model) -> int:
    """The builder gives GroupQueryAttention 11 inputs, the last two (position_ids, attention_bias)
    empty; onnxruntime 1.20 accepts 7..9 ("input size 11 not in range"). Trailing empty optional
    inputs mean the same as absent ones, so they are dropped. Returns how many nodes changed."""
    n = 0
    for node in model.graph.node:
        if node.op_type == "GroupQueryAttention":
            names = list(node.input)
            while names and names[-1] == "":
                names.pop()
            if len(names) != len(node.input):
                del node.input[:]
                node.input.extend(names)
                n += 1
    return n


def _save_fp32(built: Path, fp32: Path) -> int:
    """The builder's graph as fp32 (trimmed, _trim_gqa_inputs) + one external data file
    (<name>_data). Saved as export.check_and_save(external_data=True) does, without onnx's checker:
    the builder writes SimplifiedLayerNormalization in the default domain (an onnxruntime-internal
    op, "No Op registered" for onnx 1.17's checker), as the hub's onnxruntime-optimized graphs do.
    Returns how many GroupQueryAttention nodes were trimmed."""
    import onnx

    graph = onnx.load(str(built))
    trimmed = _trim_gqa_inputs(graph)
    onnx.save(graph, str(fp32), save_as_external_data=True,
              all_tensors_to_one_file=True, location=fp32.name + "_data")
    onnx.load(str(fp32))  # the data file and the offsets agree
    return trimmed


def pair_ids(tokenizer, query: str, doc: str, instruction: str = INSTRUCTION) -> list[int]:
    enc = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    return enc(PREFIX) + enc(f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}") + enc(SUFFIX)


def _num(x, digits: int = 3):
    """A JSON-safe number: None where NaN or infinite (the q4 file's left-padded batch gives NaN)."""
    x = float(x)
    return float(f"{x:.{digits}g}") if np.isfinite(x) else None


def _softmax_yes(yes: float, no: float) -> float:
    m = max(yes, no)
    return float(np.exp(yes - m) / (np.exp(yes - m) + np.exp(no - m)))


@dataclass
class Qwen3RerankerGqaSpec:
    name: str = NAME
    wheels: list = field(default_factory=list)

    def build(self, out_root: Path, ctx, probe: list[dict], corpus: Path, threads: int, node_modules: Path) -> dict:
        import torch
        from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

        from models import sha256_file

        t_model = time.time()
        steps: dict = {}
        work = out_root / ".work" / NAME
        hf_dir = work / "hf"

        t0 = time.time()
        config = Qwen3Config(**dc.QWEN3_SHAPE, architectures=["Qwen3ForCausalLM"])
        model = dc.random_init(Qwen3ForCausalLM, config, SEED)
        model.save_pretrained(str(hf_dir), safe_serialization=True)
        tok_info = dc.write_qwen3_tokenizer(node_modules, hf_dir, append_eos=False, padding_side="left")
        tokenizer = AutoTokenizer.from_pretrained(str(hf_dir), local_files_only=True)
        steps["source"] = round(time.time() - t0, 1)

        # ---- reference: each pair alone
        t0 = time.time()
        ids = [pair_ids(tokenizer, q, d) for q, d in PAIRS]
        pairs_ref = []
        for (q, d), r in zip(PAIRS, ids):
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([r]), attention_mask=torch.ones(1, len(r), dtype=torch.long)).logits
            yes, no = float(logits[0, -1, YES_ID]), float(logits[0, -1, NO_ID])
            pairs_ref.append({"query": q, "document": d, "tokens": len(r), "ids": r, "yes_logit": reference.f32(yes),
                              "no_logit": reference.f32(no), "score": _softmax_yes(yes, no)})
        ref = {"model": NAME, "kind": "yes-no", "query": QUERY, "instruction": INSTRUCTION, "template": {"prefix": PREFIX, "suffix": SUFFIX},
               "yes_id": YES_ID, "no_id": NO_ID, "positions": "each pair alone (0..n-1)", "pairs": pairs_ref}
        steps["reference"] = round(time.time() - t0, 1)
        dc.log(f"    reference: {len(PAIRS)} pairs, tokens {[len(r) for r in ids]}, scores "
               f"{[round(p['score'], 4) for p in pairs_ref]} ({steps['reference']} s)")

        # ---- export: onnxruntime-genai's builder
        t0 = time.time()
        py = _genai_python(work)
        steps["genai_venv"] = round(time.time() - t0, 1)
        t0 = time.time()
        gqa_dir = work / "genai"
        _genai_build(py, hf_dir, gqa_dir, work)
        folder = out_root / NAME
        onnx_dir = folder / "onnx"
        onnx_dir.mkdir(parents=True)
        fp32 = onnx_dir / "model.onnx"
        trimmed = _save_fp32(gqa_dir / "model.onnx", fp32)
        for f in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]:
            shutil.copy2(hf_dir / f, folder / f)
        shutil.copy2(gqa_dir / "genai_config.json", folder / "genai_config.json")
        export.set_external_data_flag(folder / "config.json", "model.onnx")
        steps["export"] = round(time.time() - t0, 1)
        dc.log(f"  fp32 exported by onnxruntime-genai ({steps['export']} s)")

        want = np.array([p["score"] for p in pairs_ref])

        def scores(sess, rows: list[list[int]], side: str) -> np.ndarray:
            feeds, mask = dc.decoder_feeds(sess, rows, dc.ENDOFTEXT_ID, side)
            logits = sess.run(["logits"], feeds)[0].astype(np.float64)
            last = dc.last_real(logits, mask)
            return np.array([_softmax_yes(v[YES_ID], v[NO_ID]) for v in last])

        def verify(dtype: str, path: Path, notes: dict) -> dict:
            info = {**check.describe(path), **notes}
            sess = dc.ort_session(path, threads)
            alone = np.array([scores(sess, [r], "right")[0] for r in ids])
            right = scores(sess, ids, "right")
            left = scores(sess, ids, "left")
            info.update(ran_in_onnxruntime=True,
                        alone_vs_reference_max_abs=_num(np.abs(alone - want).max()),
                        right_padded_batch_vs_alone_max_abs=_num(np.abs(right - alone).max()),
                        left_padded_batch_vs_alone_max_abs=_num(np.abs(left - alone).max()),
                        left_padded_batch_scores=[_num(x, 6) for x in left])
            info["summary"] = (f"alone-vs-torch {info['alone_vs_reference_max_abs']}  right-batch "
                               f"{info['right_padded_batch_vs_alone_max_abs']}  left-batch "
                               f"{info['left_padded_batch_vs_alone_max_abs']} (null: NaN in the scores)")
            return info

        t0 = time.time()
        dtypes = {"fp32": verify("fp32", fp32, {"route": "onnxruntime-genai model builder 0.10.0",
                                           "gqa_nodes_trimmed_of_empty_trailing_inputs": trimmed})}
        dc.log(f"  fp32   model.onnx (+ model.onnx_data) {dtypes['fp32']['total_bytes']:>12,} bytes  {dtypes['fp32']['summary']}")
        steps["fp32_check"] = round(time.time() - t0, 1)
        err = dtypes["fp32"]["alone_vs_reference_max_abs"]
        if err is None or err > 1e-4:
            raise AssertionError(f"fp32 GroupQueryAttention export disagrees with PyTorch: {dtypes['fp32']['summary']}")
        more, failed = dc.build_dtypes(folder, fp32, "qwen3", verify, MODES)
        dtypes.update(more)
        for mode in MODES:
            steps[mode] = dtypes[mode].get("seconds")

        (folder / "reference.json").write_text(json.dumps(ref, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        genai_pins = [l for l in (HERE / "requirements-genai.txt").read_text().splitlines() if l and not l.startswith("#")]
        entry = {
            "folder": NAME, "model_type": "qwen3", "recipe": RECIPE, "genai_pins": genai_pins,
            "source": {"kind": "random weights in the real model's architecture, toy size",
                       "shape_of": "Qwen/Qwen3-Reranker-0.6B (onnx-community/Qwen3-Reranker-0.6B-ONNX)",
                       "seed": SEED, "init": dc.INIT_NOTE, "config": dc.QWEN3_SHAPE, "tokenizer": tok_info,
                       "model_safetensors_sha256": sha256_file(hf_dir / "model.safetensors")},
            "reranker": {"kind": "yes-no", "yes_id": YES_ID, "no_id": NO_ID, "pairs": len(PAIRS),
                         "tokens": [len(r) for r in ids]},
            "dtypes": dtypes, "failed": failed,
            "files": dc.copy_tree_files(folder),
        }
        dc.rmtree(work)
        entry["build_seconds"] = {"total": round(time.time() - t_model, 1), **steps}
        return entry


SPEC = Qwen3RerankerGqaSpec()
