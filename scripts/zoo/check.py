"""What each ONNX file is (for the manifest), and a smoke run of it in Python onnxruntime (CPU):
the probe texts in padded batches, pooled and normalized as the reference is, then compared with
the PyTorch vectors. A file that cannot load or run here fails the build of that dtype."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

BATCH = 8
ELEM_TYPES = {v: k.lower() for k, v in onnx.TensorProto.DataType.items()}


def _value_info(v: onnx.ValueInfoProto) -> dict:
    t = v.type.tensor_type
    dims = [d.dim_param if d.dim_param else (d.dim_value if d.HasField("dim_value") else None) for d in t.shape.dim]
    return {"name": v.name, "dtype": ELEM_TYPES.get(t.elem_type, str(t.elem_type)), "shape": dims}


def describe(onnx_path: Path) -> dict:
    """Files and byte sizes, opsets, inputs/outputs, and the sorted op types (domain:op)."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    data_files = sorted({e.value for init in model.graph.initializer if init.data_location == onnx.TensorProto.EXTERNAL
                         for e in init.external_data if e.key == "location"})
    ops: dict[str, int] = {}

    def walk(g: onnx.GraphProto) -> None:
        for n in g.node:
            key = f"{n.domain or 'ai.onnx'}:{n.op_type}"
            ops[key] = ops.get(key, 0) + 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for sg in a.graphs:
                    walk(sg)

    walk(model.graph)
    init_types: dict[str, int] = {}
    for init in model.graph.initializer:
        k = ELEM_TYPES.get(init.data_type, str(init.data_type))
        init_types[k] = init_types.get(k, 0) + 1
    files = {onnx_path.name: onnx_path.stat().st_size}
    for f in data_files:
        files[f] = (onnx_path.parent / f).stat().st_size
    return {
        "file": onnx_path.name,
        "external_data": data_files,
        "bytes": files,
        "total_bytes": sum(files.values()),
        "ir_version": model.ir_version,
        "opset": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "inputs": [_value_info(v) for v in model.graph.input],
        "outputs": [_value_info(v) for v in model.graph.output],
        "nodes": len(model.graph.node),
        "initializer_types": dict(sorted(init_types.items())),
        "ops": sorted(ops),
        "op_counts": dict(sorted(ops.items())),  # e.g. how many Cast nodes the fp16 conversion added
    }


def pool(hidden: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    hidden = hidden.astype(np.float64)
    if pooling == "cls":
        v = hidden[:, 0]
    else:
        m = mask[:, :, None].astype(np.float64)
        v = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def smoke_run(onnx_path: Path, folder: Path, ref: dict, threads: int = 2) -> dict:
    """Runs the file on every probe input (right-padded batches, cut at maxTokens) and compares the
    pooled vectors with the reference's. Raises if it cannot load or run, or gives NaN/inf."""
    import onnxruntime as ort
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    inputs = [p["input"] for p in ref["probe"]]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    out_name = "last_hidden_state" if "last_hidden_state" in names else names[0]
    # Batches of similar length (right-padded, as a batch is), so that the one long text does not
    # pad every other text to 512 tokens.
    lengths = [len(ids) for ids in tok(inputs, truncation=True, max_length=ref["maxTokens"])["input_ids"]]
    order = sorted(range(len(inputs)), key=lambda i: lengths[i])
    got = np.zeros((len(inputs), len(ref["probe"][0]["embedding"])))
    counts = [0] * len(inputs)
    out_info = None
    for start in range(0, len(order), BATCH):
        idx = order[start:start + BATCH]
        enc = tok([inputs[i] for i in idx], padding=True, truncation=True, max_length=ref["maxTokens"], return_tensors="np")
        feeds = {}
        for i in sess.get_inputs():
            if i.name not in enc:
                raise KeyError(f"input {i.name} is not one the tokenizer gives ({list(enc)})")
            feeds[i.name] = enc[i.name].astype(np.int64)
        (hidden,) = sess.run([out_name], feeds)
        if not np.isfinite(hidden).all():
            raise FloatingPointError(f"{onnx_path.name}: non-finite values in {out_name}")
        out_info = {"name": out_name, "dtype": str(hidden.dtype), "rank": hidden.ndim}
        got[idx] = pool(hidden, enc["attention_mask"], ref["pooling"])
        for j, i in enumerate(idx):
            counts[i] = int(enc["attention_mask"][j].sum())
    want = np.array([p["embedding"] for p in ref["probe"]], dtype=np.float64)
    cos = (got * want).sum(1)
    counts_ok = counts == [p["tokens"] for p in ref["probe"]]
    return {
        "ran_in_onnxruntime": True,
        "onnxruntime_output": out_info,
        "cosine_to_reference": {"min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6)},
        "token_counts_match_reference": counts_ok,
    }
