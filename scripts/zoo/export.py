"""fp32 ONNX export, the way transformers.js' scripts/convert.py makes the hub's encoder folders:
optimum's main_export (task feature-extraction, default opset, validated against PyTorch), then
onnxslim on the exported graph, then a checked save. The result is the folder layout the hub has:
config.json and the tokenizer files at the top, the graphs under onnx/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import onnxslim


def check_and_save(model: onnx.ModelProto, path: Path, external_data: bool = False) -> None:
    """Checks the graph with onnx.checker, then saves it (as optimum's check_and_save_model does,
    which convert.py and quantize.py call). Contrib ops (com.microsoft: MatMulNBits, ...) are
    unknown to onnx's checker; like optimum we let that one complaint through.

    external_data: write every tensor to one side file "<name>_data" (model.onnx_data), the layout
    onnx-community uses for its large models."""
    if model.ByteSize() < onnx.checker.MAXIMUM_PROTOBUF:
        try:
            onnx.checker.check_model(model)
        except onnx.checker.ValidationError as e:
            if "No Op registered for" not in str(e):
                raise
    data_name = path.name + "_data"
    for stale in (path, path.with_name(data_name)):
        stale.unlink(missing_ok=True)
    if external_data:
        # onnx.save's default size_threshold (1024 bytes): small shape constants stay in the graph.
        onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=data_name)
        # Loading it back proves the data file and the offsets agree.
        onnx.checker.check_model(str(path))
    else:
        onnx.save(model, str(path))


def export_fp32(model_dir: Path, out_dir: Path, log) -> Path:
    """Exports model_dir (a transformers/sentence-transformers folder) into out_dir: config.json,
    tokenizer files and model.onnx at the top level, as main_export leaves them. Returns the path
    of model.onnx."""
    from optimum.exporters.onnx import main_export

    out_dir.mkdir(parents=True, exist_ok=True)
    main_export(
        str(model_dir),
        output=str(out_dir),
        task="feature-extraction",
        library_name="transformers",
        opset=None,  # optimum's default for the architecture, as convert.py leaves it
        device="cpu",
        do_validation=True,
    )
    onnx_path = out_dir / "model.onnx"
    # convert.py: slim every exported graph and save it back in place.
    slimmed = onnxslim.slim(str(onnx_path))
    check_and_save(slimmed, onnx_path)
    log(f"    exported {onnx_path.name}: {onnx_path.stat().st_size:,} bytes")
    return onnx_path


def move_to_external_data(onnx_path: Path) -> None:
    """Re-saves an fp32 graph as model.onnx + model.onnx_data (one data file)."""
    model = onnx.load(str(onnx_path))
    check_and_save(model, onnx_path, external_data=True)


def set_external_data_flag(config_path: Path, file_name: str) -> None:
    """onnx-community's large models tell transformers.js which graphs carry a .onnx_data file
    through config.json's "transformers.js_config"."""
    config = json.loads(config_path.read_text())
    tjs = config.setdefault("transformers.js_config", {})
    tjs.setdefault("use_external_data_format", {})[file_name] = 1
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def copy_sentence_transformers_files(st_dir: Path, out_dir: Path) -> list[str]:
    """Copies the sentence-transformers description files (pooling, prompts, max length) next to the
    ONNX export, without weights, so that a loader can read the pooling from the folder. The hub's
    Xenova folders often lack them; onnx-community folders made from a whole repository have them."""
    copied = []
    for rel in ["modules.json", "sentence_bert_config.json", "config_sentence_transformers.json"]:
        if (st_dir / rel).is_file():
            shutil.copy2(st_dir / rel, out_dir / rel)
            copied.append(rel)
    for sub in sorted(p for p in st_dir.iterdir() if p.is_dir() and p.name[:1].isdigit()):
        for f in sorted(sub.iterdir()):
            if f.is_file() and f.suffix == ".json":
                (out_dir / sub.name).mkdir(exist_ok=True)
                shutil.copy2(f, out_dir / sub.name / f.name)
                copied.append(f"{sub.name}/{f.name}")
    return copied
