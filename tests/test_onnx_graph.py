"""The export's graph clean-up (zero Pads into Convs, per-channel PReLUs split) keeps
the result.

Synthetic graphs with known answers, run by ONNX Runtime before and after: TF "SAME"
padding (0 before, 1 after) in front of a 3x3 stride-2 convolution, as faceres has it,
and a per-channel PReLU, as mobileface has it, against its definition.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from core.models.onnx_graph import cleaned_export, fold_pads_into_convs


def padded_conv_graph(pad_value: float = 0.0, exporter_form: bool = False) -> onnx.ModelProto:
    """Pad then Conv. `exporter_form`: the pads come from a Constant through a Cast and the
    pad value is left out, as torch's TorchScript exporter writes F.pad."""
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    pads = np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64)
    initializers = [numpy_helper.from_array(weight, "w")]
    nodes = []
    if exporter_form:
        constant = numpy_helper.from_array(pads.astype(np.int32), "pads32")
        nodes.append(helper.make_node("Constant", [], ["pads32"], value=constant))
        nodes.append(helper.make_node("Cast", ["pads32"], ["pads"], to=TensorProto.INT64))
        pad_inputs = ["x", "pads", ""]
    else:
        initializers.append(numpy_helper.from_array(pads, "pads"))
        initializers.append(numpy_helper.from_array(np.array(pad_value, np.float32), "value"))
        pad_inputs = ["x", "pads", "value"]
    nodes += [
        helper.make_node("Pad", pad_inputs, ["padded"], mode="constant"),
        helper.make_node("Conv", ["padded", "w"], ["y"], strides=[2, 2], kernel_shape=[3, 3]),
    ]
    graph = helper.make_graph(
        nodes,
        "same_pad_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4, 4, 4])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_a_zero_pad_becomes_the_convs_asymmetric_padding():
    x = np.random.default_rng(1).uniform(0, 255, (2, 3, 8, 8)).astype(np.float32)
    model = padded_conv_graph()
    expected = run(model, x)
    assert fold_pads_into_convs(model) == 1
    assert [n.op_type for n in model.graph.node] == ["Conv"]
    pads = next(a for a in model.graph.node[0].attribute if a.name == "pads")
    assert list(pads.ints) == [0, 0, 1, 1]
    np.testing.assert_allclose(run(model, x), expected, rtol=0, atol=1e-4)


def test_a_pad_with_another_value_is_kept():
    model = padded_conv_graph(pad_value=128.0)
    assert fold_pads_into_convs(model) == 0
    assert [n.op_type for n in model.graph.node] == ["Pad", "Conv"]


def test_cleaned_export_folds_the_exporters_pad_and_keeps_the_answer():
    x = np.random.default_rng(2).uniform(0, 255, (3, 3, 8, 8)).astype(np.float32)
    model = padded_conv_graph(exporter_form=True)
    data, rewrites = cleaned_export(model.SerializeToString())
    cleaned = onnx.load_from_string(data)
    assert (
        rewrites["pads_folded_into_convs"] == 1
    )  # ONNX Runtime's own Pad fusion leaves this form alone
    assert [n.op_type for n in cleaned.graph.node] == ["Conv"]
    np.testing.assert_allclose(run(cleaned, x), run(model, x), rtol=0, atol=1e-4)


def prelu_graph(slope_shape: tuple[int, ...]) -> onnx.ModelProto:
    slopes = np.random.default_rng(3).uniform(-0.5, 0.5, slope_shape).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("PRelu", ["x", "slopes"], ["y"])],
        "prelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4, 5, 5])],
        [numpy_helper.from_array(slopes, "slopes")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_per_channel_prelu_is_split_into_relus_and_depthwise_convs_with_equal_values():
    x = np.random.default_rng(4).normal(0, 10, (2, 4, 5, 5)).astype(np.float32)
    model = prelu_graph((4, 1, 1))
    slopes = numpy_helper.to_array(model.graph.initializer[0]).reshape(1, 4, 1, 1)
    expected = np.where(x >= 0, x, slopes * x)  # PReLU by definition
    assert np.array_equal(run(model, x), expected)
    data, rewrites = cleaned_export(model.SerializeToString())
    cleaned = onnx.load_from_string(data)
    assert rewrites["prelus_split"] == 1
    assert "PRelu" not in {n.op_type for n in cleaned.graph.node}
    assert np.array_equal(run(cleaned, x), expected)


def test_a_prelu_with_one_slope_per_position_is_kept():
    model = prelu_graph((4, 5, 5))
    data, rewrites = cleaned_export(model.SerializeToString())
    assert rewrites["prelus_split"] == 0
    assert [n.op_type for n in onnx.load_from_string(data).graph.node] == ["PRelu"]
