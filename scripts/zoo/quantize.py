"""The hub's other dtypes, made from the fp32 graph with the settings of transformers.js'
scripts/quantize.py (read there; this is our own code):

  model_fp16.onnx       float16 weights and activations, fp32 inputs/outputs kept (keep_io_types),
                        ops in FP16_BLOCK_LIST left in fp32 behind Cast nodes, then onnxslim
  model_quantized.onnx  "q8": dynamic quantization (IntegerOps): int8 weights (uint8 when the graph
                        has Conv or a fused attention op), uint8 activations quantized at run time
  model_int8.onnx       the same with int8 weights
  model_uint8.onnx      the same with uint8 weights
  model_q4.onnx         MatMul weights in 4-bit blocks of 32, symmetric (com.microsoft MatMulNBits)
  model_q4f16.onnx      q4, then the fp16 conversion
  model_bnb4.onnx       MatMul weights in NF4, blocks of 64 (com.microsoft MatMulBnb4)

Each mode starts again from the fp32 graph on disk, because the quantizers change the model they
are given in place.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxslim
from onnxconverter_common import float16
from onnxruntime.quantization import QuantizationMode, QuantType
from onnxruntime.quantization.matmul_4bits_quantizer import MatMul4BitsQuantizer
from onnxruntime.quantization.matmul_bnb4_quantizer import MatMulBnb4Quantizer
from onnxruntime.quantization.onnx_quantizer import ONNXQuantizer
from onnxruntime.quantization.registry import IntegerOpsRegistry

from export import check_and_save

# Mode -> file name, in the order quantize.py lists its modes.
MODES = {
    "fp16": "model_fp16.onnx",
    "q8": "model_quantized.onnx",
    "int8": "model_int8.onnx",
    "uint8": "model_uint8.onnx",
    "q4": "model_q4.onnx",
    "q4f16": "model_q4f16.onnx",
    "bnb4": "model_bnb4.onnx",
}

# q8 picks uint8 weights when one of these is in the graph: onnxruntime-web has no ConvInteger for
# int8 weights, and onnxruntime-genai's fused attention ops run faster with uint8.
QUINT8_OPS = {"Conv", "GroupQueryAttention", "MultiHeadAttention"}

# transformers.js' float16.py block list: onnxconverter-common's default list, with "Range" taken
# out (commented out there) and "RandomNormalLike" and "Cast" added ("Cast" because, without it, the
# converted graphs were invalid, their comment says).
FP16_BLOCK_LIST = sorted((set(float16.DEFAULT_OP_BLOCK_LIST) - {"Range"}) | {"RandomNormalLike", "Cast"})

# convert.py quantizes per channel with a 7-bit weight range (reduce_range) unless the model type is
# one of its exceptions (decoder-only LMs, whisper, a few vision/speech encoders). Our encoders
# (bert, xlm-roberta) are not among them; the ones named here are just the families this project
# also serves, so that a new entry in models.py cannot silently get the wrong rule.
NO_PER_CHANNEL_REDUCE_RANGE = {"qwen2", "qwen3", "llama", "mistral", "gemma", "gemma3_text", "phi3", "gpt2",
                               "whisper", "wav2vec2"}

# Settings as quantize.py's defaults leave them; written to quantize_config.json like convert.py.
Q4_BLOCK_SIZE = 32
BNB4_BLOCK_SIZE = 64
IS_SYMMETRIC = True
ACCURACY_LEVEL = None
BNB4_QUANT_TYPE = MatMulBnb4Quantizer.NF4


def quantize_config(model_type: str) -> dict:
    pc = model_type not in NO_PER_CHANNEL_REDUCE_RANGE
    return {
        "modes": list(MODES),
        "per_channel": pc,
        "reduce_range": pc,
        "block_size": None,
        "is_symmetric": IS_SYMMETRIC,
        "accuracy_level": ACCURACY_LEVEL,
        "quant_type": BNB4_QUANT_TYPE,
        "op_block_list": None,
    }


def op_types(model: onnx.ModelProto) -> set[str]:
    """Every op type in the graph and its subgraphs."""
    seen: set[str] = set()

    def walk(graph: onnx.GraphProto) -> None:
        for node in graph.node:
            seen.add(node.op_type)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model.graph)
    return seen


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    # Shape inference cannot take a protobuf over 2 GB; quantize.py switches it off then.
    too_big = model.ByteSize() >= onnx.checker.MAXIMUM_PROTOBUF
    converted = float16.convert_float_to_float16(
        model, keep_io_types=True, disable_shape_infer=too_big, op_block_list=FP16_BLOCK_LIST
    )
    # onnxslim sorts the graph topologically (the converter appends Cast nodes at the end) and
    # folds what the conversion left redundant.
    return onnxslim.slim(converted)


def to_8bit(model: onnx.ModelProto, weight_type: QuantType, per_channel: bool, reduce_range: bool) -> onnx.ModelProto:
    quantizer = ONNXQuantizer(
        model,
        per_channel,
        reduce_range,
        mode=QuantizationMode.IntegerOps,
        static=False,
        weight_qType=weight_type,
        activation_qType=QuantType.QUInt8,  # dynamic quantization only has uint8 activations
        tensors_range=None,
        nodes_to_quantize=[],
        nodes_to_exclude=[],
        op_types_to_quantize=set(IntegerOpsRegistry),
        extra_options={"EnableSubgraph": True, "MatMulConstBOnly": True},
    )
    quantizer.quantize_model()
    return quantizer.model.model


def to_q4(model: onnx.ModelProto) -> onnx.ModelProto:
    quantizer = MatMul4BitsQuantizer(model=model, block_size=Q4_BLOCK_SIZE, is_symmetric=IS_SYMMETRIC,
                                     accuracy_level=ACCURACY_LEVEL)
    quantizer.process()
    return quantizer.model.model


def to_bnb4(model: onnx.ModelProto) -> onnx.ModelProto:
    quantizer = MatMulBnb4Quantizer(model=model, quant_type=BNB4_QUANT_TYPE, block_size=BNB4_BLOCK_SIZE)
    quantizer.process()
    return quantizer.model.model


def make_mode(mode: str, fp32_path: Path, out_path: Path, model_type: str) -> dict:
    """Builds one dtype file from the fp32 graph at fp32_path. Returns notes for the manifest."""
    model = onnx.load(str(fp32_path))  # a fresh copy: the quantizers edit in place
    cfg = quantize_config(model_type)
    notes: dict = {}
    if mode == "fp16":
        out = to_fp16(model)
        notes["fp16_op_block_list"] = FP16_BLOCK_LIST
    elif mode == "q8" or mode == "int8" or mode == "uint8":
        if mode == "q8":
            weight_type = QuantType.QUInt8 if op_types(model) & QUINT8_OPS else QuantType.QInt8
        else:
            weight_type = QuantType.QInt8 if mode == "int8" else QuantType.QUInt8
        out = to_8bit(model, weight_type, cfg["per_channel"], cfg["reduce_range"])
        notes.update(weight_type=weight_type.name, activation_type="QUInt8", per_channel=cfg["per_channel"],
                     reduce_range=cfg["reduce_range"])
    elif mode == "q4":
        out = to_q4(model)
        notes.update(block_size=Q4_BLOCK_SIZE, is_symmetric=IS_SYMMETRIC, accuracy_level=ACCURACY_LEVEL)
    elif mode == "q4f16":
        out = to_fp16(to_q4(model))
        notes.update(block_size=Q4_BLOCK_SIZE, is_symmetric=IS_SYMMETRIC, accuracy_level=ACCURACY_LEVEL,
                     fp16_op_block_list=FP16_BLOCK_LIST)
    elif mode == "bnb4":
        out = to_bnb4(model)
        notes.update(block_size=BNB4_BLOCK_SIZE, quant_type="nf4")
    else:
        raise ValueError(f"unknown mode {mode}")
    check_and_save(out, out_path)
    return notes
