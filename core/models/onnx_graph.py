"""Graph clean-up of a fresh ONNX export before ONNX Runtime runs it (issue 12).

Three steps, none of which changes what the graph computes:

1. ONNX Runtime's own basic (hardware-independent) optimisations, saved offline:
   constant folding turns the TorchScript exporter's `Constant -> Cast` chains
   into initializers, and the depthwise batch-norm multiply/add are folded into
   the convolutions.
2. A zero `Pad` in front of a `Conv` becomes the Conv's own (possibly asymmetric)
   `pads` attribute. faceres pads TF "SAME" style (0 before, 1 after) before its
   five stride-2 convolutions; ONNX Runtime does not fuse these itself, and each
   stand-alone Pad made it convert the activations out of and back into its
   blocked NCHWc layout: Pad plus the two reorders were 18% of a faceres pass
   (profiled, batch 8).
3. A per-channel `PRelu(x, a)` becomes `Relu(x) + (-a) * Relu(-x)`, both products as
   1x1 depthwise Convs: the same values (x for x >= 0, a x below: sign flips and one
   product, so bitwise equal, measured), but ONNX Runtime keeps it all in its blocked
   layout, while its PRelu kernel broadcast the slopes slowly and forced a layout
   reorder on each side. mobileface's 13 PReLUs were 70% of a pass (profiled, batch 8);
   rewritten, a pass took 0.20 ms of CPU per image instead of 0.90 (load average 5,
   2 cores; `Min` in place of the negated Relu gave 0.28).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


def basic_optimised(data: bytes) -> bytes:
    """The model after ONNX Runtime's basic graph optimisations (portable across CPUs)."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="patchwise-onnx-") as folder:
        out = Path(folder) / "basic.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(out)
        options.log_severity_level = 3
        ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        return out.read_bytes()


def _zero_pad_amounts(node, initializers: dict, rank: int = 4) -> list[int] | None:
    """The spatial (begin..., end...) pads of a constant zero Pad on N and C-free axes, or None."""
    if node.op_type != "Pad" or len(node.input) < 2 or node.input[1] not in initializers:
        return None
    mode = next((a.s for a in node.attribute if a.name == "mode"), b"constant")
    if mode != b"constant":
        return None
    if len(node.input) > 2 and node.input[2]:
        value = initializers.get(node.input[2])
        if value is None or np.any(numpy_helper.to_array(value) != 0):
            return None
    if len(node.input) > 3 and node.input[3]:
        return None  # explicit axes: not the exporter's form
    pads = numpy_helper.to_array(initializers[node.input[1]]).astype(int).tolist()
    if len(pads) != 2 * rank or any(p < 0 for p in pads):
        return None
    begin, end = pads[:rank], pads[rank:]
    if begin[:2] != [0, 0] or end[:2] != [0, 0]:
        return None
    return begin[2:] + end[2:]


def fold_pads_into_convs(model: onnx.ModelProto) -> int:
    """Move every constant zero Pad that feeds only a Conv into that Conv's `pads`.

    Returns how many Pads were folded. A Conv with `auto_pad` set is left alone.
    """
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    outputs = {o.name for o in graph.output}
    folded = []
    for pad in graph.node:
        extra = _zero_pad_amounts(pad, initializers)
        users = consumers.get(pad.output[0], [])
        if extra is None or len(users) != 1 or pad.output[0] in outputs:
            continue
        conv = users[0]
        attributes = {a.name: a for a in conv.attribute}
        if conv.op_type != "Conv" or conv.input[0] != pad.output[0]:
            continue
        if "auto_pad" in attributes and attributes["auto_pad"].s not in (b"", b"NOTSET"):
            continue
        old = list(attributes["pads"].ints) if "pads" in attributes else [0] * len(extra)
        new = [a + b for a, b in zip(old, extra, strict=True)]
        if "pads" in attributes:
            conv.attribute.remove(attributes["pads"])
        conv.attribute.append(helper.make_attribute("pads", new))
        conv.input[0] = pad.input[0]
        folded.append(pad)
    for pad in folded:
        graph.node.remove(pad)
    return len(folded)


def _channel_slopes(node, initializers: dict) -> np.ndarray | None:
    """The slopes of a PRelu whose slope is a constant per-channel (C, 1, 1) vector."""
    if node.op_type != "PRelu" or node.input[1] not in initializers:
        return None
    slopes = numpy_helper.to_array(initializers[node.input[1]])
    if slopes.ndim not in (3, 4) or any(d != 1 for d in slopes.shape[-2:]):
        return None
    if slopes.ndim == 4 and slopes.shape[0] != 1:
        return None
    return slopes.reshape(-1).astype(np.float32)


def _depthwise_1x1(source: str, weights: str, out: str, channels: int):
    return helper.make_node("Conv", [source, weights], [out], group=channels, kernel_shape=[1, 1])


def split_channel_prelus(model: onnx.ModelProto) -> int:
    """Rewrite every per-channel PRelu(x, a) as Relu(x) + Conv_{-a}(Relu(Conv_{-1}(x))),
    Conv_w a 1x1 depthwise convolution with one weight per channel.

    Returns how many were rewritten; a PRelu with any other slope shape is left alone.
    """
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    nodes, count = [], 0
    for node in graph.node:
        slopes = _channel_slopes(node, initializers)
        if slopes is None:
            nodes.append(node)
            continue
        x, y = node.input[0], node.output[0]
        for name, weights in ((f"{y}_minus_one", -np.ones_like(slopes)), (f"{y}_minus_a", -slopes)):
            graph.initializer.append(numpy_helper.from_array(weights.reshape(-1, 1, 1, 1), name))
        nodes += [
            helper.make_node("Relu", [x], [f"{y}_positive"]),
            _depthwise_1x1(x, f"{y}_minus_one", f"{y}_negated", len(slopes)),
            helper.make_node("Relu", [f"{y}_negated"], [f"{y}_negative_part"]),
            _depthwise_1x1(f"{y}_negative_part", f"{y}_minus_a", f"{y}_scaled", len(slopes)),
            helper.make_node("Add", [f"{y}_positive", f"{y}_scaled"], [y]),
        ]
        count += 1
    if count:
        del graph.node[:]
        graph.node.extend(nodes)
    return count


def cleaned_export(data: bytes) -> tuple[bytes, dict]:
    """(model bytes, what was rewritten): basic optimisations, zero Pads folded into Convs,
    per-channel PReLUs split."""
    model = onnx.load_from_string(basic_optimised(data))
    rewrites = {
        "pads_folded_into_convs": fold_pads_into_convs(model),
        "prelus_split": split_channel_prelus(model),
    }
    onnx.checker.check_model(model)
    return model.SerializeToString(), rewrites
