"""A small numpy interpreter for TensorFlow.js graph models (reference for the converter).

It executes the nodes of a TF.js `graph-model` JSON (`modelTopology.node`) with numpy, in
float64 by default, using the weights read from the `.bin` shards. It deliberately shares
no code with the hand-written torch modules in `core/models/`: it is the independent side
of the conversion check in `tools/convert_models.py --write-fixtures` and of
`tests/test_model_conversion.py`.

Only the op types used by the bundled graphs are implemented (plus a few trivial ones);
anything else raises `NotImplementedError` naming the node.

`synthetic_inputs` generates the fixed test inputs (seeded noise and a smooth gradient);
the test suite imports it from here, so the inputs never need to be stored.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np

# --- reading a graph model -------------------------------------------------------------


def read_weights(manifest: list[dict], shards: list[bytes]) -> dict[str, np.ndarray]:
    """Weights of a TF.js weightsManifest, in their stored dtype (float16 stays float16).

    The groups' shards are concatenated; each weight takes the next bytes in manifest order.
    `quantization: {dtype: float16}` means the bytes are IEEE half floats.
    """
    buf = b"".join(shards)
    out: dict[str, np.ndarray] = {}
    offset = 0
    for group in manifest:
        for spec in group["weights"]:
            quant = spec.get("quantization")
            if quant is None:
                dtype = np.dtype({"float32": "<f4", "int32": "<i4"}[spec["dtype"]])
            elif quant.get("dtype") == "float16" and "scale" not in quant:
                dtype = np.dtype("<f2")
            else:
                raise NotImplementedError(f"{spec['name']}: unsupported quantization {quant}")
            shape = [int(s) for s in spec["shape"]]
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            if offset + nbytes > len(buf):
                raise ValueError(f"{spec['name']}: weight data runs past the end of the shards")
            out[spec["name"]] = np.frombuffer(buf, dtype, count, offset).reshape(shape)
            offset += nbytes
    if offset != len(buf):
        raise ValueError(f"shards hold {len(buf)} bytes but the manifest uses {offset}")
    return out


def _attr(node: dict, key: str, default=None):
    value = node.get("attr", {}).get(key)
    if value is None:
        return default
    if "s" in value:
        return base64.b64decode(value["s"]).decode("ascii")
    if "list" in value:
        lst = value["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(v).decode("ascii") for v in lst["s"]]
        return []
    if "b" in value:
        return bool(value["b"])
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    return value


# --- ops (NHWC) ------------------------------------------------------------------------


def _pad_amounts(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    if padding == "VALID":
        return 0, 0
    if padding != "SAME":
        raise NotImplementedError(f"padding {padding}")
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _windows(x: np.ndarray, kh: int, kw: int, strides: list[int], padding: str):
    """Zero-pad x (NHWC) and yield (i, j, strided slice) for every kernel tap."""
    if strides[0] != 1 or strides[3] != 1:
        raise NotImplementedError(f"strides {strides}")
    sh, sw = strides[1], strides[2]
    top, bottom = _pad_amounts(x.shape[1], kh, sh, padding)
    left, right = _pad_amounts(x.shape[2], kw, sw, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    oh = (xp.shape[1] - kh) // sh + 1
    ow = (xp.shape[2] - kw) // sw + 1
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :]


def conv2d(x: np.ndarray, w: np.ndarray, strides: list[int], padding: str) -> np.ndarray:
    """tf.nn.conv2d, NHWC input, HWIO kernel."""
    kh, kw = w.shape[:2]
    out = None
    for i, j, patch in _windows(x, kh, kw, strides, padding):
        term = patch @ w[i, j]
        out = term if out is None else out + term
    return out


def depthwise_conv2d(x: np.ndarray, w: np.ndarray, strides: list[int], padding: str) -> np.ndarray:
    """tf.nn.depthwise_conv2d, kernel (H, W, C, M); output channel c * M + m."""
    kh, kw, c, m = w.shape
    out = None
    for i, j, patch in _windows(x, kh, kw, strides, padding):
        term = patch[..., :, None] * w[i, j]  # N, H, W, C, M
        out = term if out is None else out + term
    return out.reshape(*out.shape[:3], c * m)


def _apply_fused(y: np.ndarray, fused: list[str], args: list[np.ndarray], node: str) -> np.ndarray:
    for op in fused:
        if op == "BiasAdd":
            y = y + args[0]
        elif op == "Relu":
            y = np.maximum(y, 0)
        elif op == "Relu6":
            y = np.clip(y, 0, 6)
        else:
            raise NotImplementedError(f"{node}: fused op {op}")
    return y


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _run_op(node: dict, ins: list[np.ndarray]) -> np.ndarray:
    op, name = node["op"], node["name"]
    if op in ("Identity", "StopGradient"):
        return ins[0]
    if op in ("Add", "AddV2"):
        return ins[0] + ins[1]
    if op == "Sub":
        return ins[0] - ins[1]
    if op == "Mul":
        return ins[0] * ins[1]
    if op == "Minimum":
        return np.minimum(ins[0], ins[1])
    if op == "Maximum":
        return np.maximum(ins[0], ins[1])
    if op == "Relu":
        return np.maximum(ins[0], 0)
    if op == "Relu6":
        return np.clip(ins[0], 0, 6)
    if op == "Sigmoid":
        return 1.0 / (1.0 + np.exp(-ins[0]))
    if op == "Softmax":
        return _softmax(ins[0])
    if op == "BiasAdd":
        return ins[0] + ins[1]
    if op == "Pad":
        return np.pad(ins[0], ins[1].astype(np.int64).tolist())
    if op == "Reshape":
        return ins[0].reshape(ins[1].astype(np.int64).tolist())
    if op == "Mean":
        axes = tuple(int(a) for a in np.atleast_1d(ins[1]))
        return ins[0].mean(axis=axes, keepdims=_attr(node, "keep_dims", False))
    if op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative"):
        if _attr(node, "data_format", "NHWC") != "NHWC":
            raise NotImplementedError(f"{name}: data_format")
        if any(d != 1 for d in _attr(node, "dilations", [1, 1, 1, 1])):
            raise NotImplementedError(f"{name}: dilations")
        fn = depthwise_conv2d if op == "DepthwiseConv2dNative" else conv2d
        y = fn(ins[0], ins[1], _attr(node, "strides"), _attr(node, "padding"))
        if op == "_FusedConv2D":
            y = _apply_fused(y, _attr(node, "fused_ops", []), ins[2:], name)
        return y
    if op in ("MatMul", "_FusedMatMul"):
        a = ins[0].T if _attr(node, "transpose_a", False) else ins[0]
        b = ins[1].T if _attr(node, "transpose_b", False) else ins[1]
        y = a @ b
        if op == "_FusedMatMul":
            y = _apply_fused(y, _attr(node, "fused_ops", []), ins[2:], name)
        return y
    raise NotImplementedError(f"node {name}: op {op} is not implemented")


# --- running a graph -------------------------------------------------------------------


def run_graph(
    graph: dict,
    weights: dict[str, np.ndarray],
    feeds: dict[str, np.ndarray],
    outputs: list[str],
    dtype=np.float64,
) -> dict[str, np.ndarray]:
    """Evaluate `outputs` (node names) of a TF.js graph-model JSON with numpy.

    `feeds` maps Placeholder names to NHWC arrays. Float constants and inputs are cast to
    `dtype` (float64 by default, so the result is the graph's arithmetic without float32
    rounding); int32 constants stay integers.
    """
    nodes = {n["name"]: n for n in graph["modelTopology"]["node"]}
    values: dict[str, np.ndarray] = {}

    def source(ref: str) -> str:
        ref = ref.lstrip("^")
        return ref.split(":")[0]

    for target in outputs:
        stack = [target]
        while stack:
            name = stack[-1]
            if name in values:
                stack.pop()
                continue
            node = nodes[name]
            missing = [source(r) for r in node.get("input", []) if source(r) not in values]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            op = node["op"]
            if op == "Const":
                value = weights[name]
                values[name] = value.astype(dtype) if value.dtype.kind == "f" else value
            elif op == "Placeholder":
                values[name] = np.asarray(feeds[name], dtype=dtype)
            else:
                ins = [values[source(r)] for r in node.get("input", []) if not r.startswith("^")]
                values[name] = _run_op(node, ins)
    return {name: values[name] for name in outputs}


def op_types(graph: dict) -> list[str]:
    """The sorted op types of a graph (what this interpreter must support)."""
    return sorted({n["op"] for n in graph["modelTopology"]["node"]})


def load_graph_json(data: bytes) -> dict:
    graph = json.loads(data)
    if graph.get("format") != "graph-model":
        raise ValueError(f"not a TF.js graph model (format {graph.get('format')!r})")
    return graph


# --- fixed test inputs -----------------------------------------------------------------

INPUT_NAMES = ("noise_seed0", "noise_seed1", "gradient", "cartoon_face_seed0")


def _cartoon_face(size: int, seed: int) -> np.ndarray:
    """A crude drawn face (ellipses for head, hair, eyes, nose, mouth) plus seeded noise.

    Noise and gradients leave faceres's last map almost all zero; this face-like image
    makes about half of its embedding non-zero, so the comparison covers more channels.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    img = np.empty((size, size, 3))
    img[:] = rng.uniform(40.0, 200.0, 3)

    def ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0

    img[ellipse(0.5, 0.55, 0.36, 0.48)] = (205, 160, 130)  # head
    img[ellipse(0.5, 0.12, 0.38, 0.16)] = (60, 40, 30)  # hair
    for cx in (0.342, 0.657):  # eyes at the arcface template positions
        img[ellipse(cx, 0.46, 0.07, 0.03)] = (250, 250, 250)
        img[ellipse(cx, 0.46, 0.03, 0.03)] = (50, 30, 20)
    img[ellipse(0.5, 0.64, 0.04, 0.07)] = (185, 135, 110)  # nose
    img[ellipse(0.5, 0.82, 0.12, 0.03)] = (150, 60, 60)  # mouth
    img += rng.uniform(-20.0, 20.0, (size, size, 3))
    return np.clip(img, 0.0, 255.0)


def synthetic_inputs(size: int) -> np.ndarray:
    """Four fixed NHWC RGB images in 0..255 (float32), named by INPUT_NAMES.

    Seeded uniform noise (seeds 0 and 1), a smooth gradient and a seeded cartoon face.
    Only seeded generators and +, -, *, / are used, so the values are the same everywhere.
    """
    images = [
        np.random.default_rng(seed).uniform(0.0, 255.0, size=(size, size, 3)) for seed in (0, 1)
    ]
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / (size - 1)
    radial = ((x - 0.5) ** 2 + (y - 0.5) ** 2) * 2.0
    images.append(255.0 * np.stack([x, y, radial], axis=-1))
    images.append(_cartoon_face(size, 0))
    return np.stack(images).astype(np.float32)
