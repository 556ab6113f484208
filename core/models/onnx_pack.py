"""Recognition models from a LOCAL insightface pack (ArcFace-style ONNX), decomposed exactly.

ArcFace-style recognition networks (insightface's buffalo_l `w600k_r50.onnx`,
antelopev2 `glintr100.onnx`, arcface_torch exports) end in the head

    map (C x 7 x 7) -> BatchNorm2d -> Flatten -> Gemm (FC) -> BatchNorm1d -> embedding,

which is affine in the last map: e = sum_p A_p m_p + c, p over the 49 cells, with
A_p = s * W[:, :, p] * g (W the FC weight as D x C x 49, g the map BN's scale, s the
feature BN's) and c = s * (W flat(beta_map) + fc bias) + t. So the cosine splits exactly
into 49 x 49 cell-pair terms plus bias terms (core/decomposition.py).

`PackRecognitionModel` parses that head from the graph's initializers, adds the map as an
extra graph output and runs the graph with ONNX Runtime (CPU); the head is applied in
float64 and checked against the graph's own embedding on every batch. A graph whose
tail is not that head is refused with a one-line reason. Packs are never downloaded:
only files on disk (`--model-pack DIR`, $PATCHWISE_MODEL_PACK, ~/.insightface/models/*).
Their licences are their own (buffalo_l and antelopev2: non-commercial research).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import ModelNotFoundError
from core.file_hash import sha256_file
from core.models.face_model import CellFeatures, ModelKind, cosine_score_tensor, grid_layout

ENV_VAR = "PATCHWISE_MODEL_PACK"
ID_PREFIX = "pack:"
HEAD_TOLERANCE = 1e-3  # largest |head(map) - graph output| relative to the output's scale
_extra_dirs: list[Path] = []


def add_pack_dir(directory: str | os.PathLike) -> None:
    """A folder named on the command line (`--model-pack DIR`), searched first."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise ModelNotFoundError(f"model pack folder not found: {path}")
    _extra_dirs.insert(0, path)


def use_model_pack(directory: str | os.PathLike | None) -> None:
    """`--model-pack DIR` from any front end: add DIR when one was given."""
    if directory:
        add_pack_dir(directory)


def pack_dirs() -> list[Path]:
    env = os.environ.get(ENV_VAR, "").strip()
    root = Path.home() / ".insightface" / "models"
    found = list(_extra_dirs) + ([Path(env).expanduser()] if env else [])
    if root.is_dir():
        found += sorted(p for p in root.iterdir() if p.is_dir())
    return [p for p in found if p.is_dir()]


def _is_recognition(path: Path) -> bool:
    """An ONNX whose one input is N x 3 x 112 x 112 and one output is N x D."""
    import onnx

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception:  # not an ONNX file we can read: not listed
        return False
    inputs = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    if len(inputs) != 1 or len(graph.output) != 1:
        return False
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    out = graph.output[0].type.tensor_type.shape.dim
    return dims[1:] == [3, 112, 112] and len(out) == 2


def pack_models() -> dict[str, Path]:
    """{"pack:<folder>/<file stem>": path} for every recognition ONNX in the pack folders."""
    found: dict[str, Path] = {}
    for directory in pack_dirs():
        for path in sorted(directory.glob("*.onnx")):
            key = f"{ID_PREFIX}{directory.name}/{path.stem}"
            if key not in found and _is_recognition(path):
                found[key] = path
    return found


@dataclass(frozen=True)
class AffineHead:
    """The head as float64 arrays: cell maps A (49 x D x C) and constant c (D)."""

    map_name: str
    cell_maps: np.ndarray
    constant: np.ndarray
    map_shape: tuple[int, int, int]


def _bn(init: dict, node) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of an inference BatchNormalization node."""
    eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
    gamma, beta, mean, var = (init[n].astype(np.float64) for n in node.input[1:5])
    scale = gamma / np.sqrt(var + eps)
    return scale, beta - mean * scale


def parse_head(graph) -> AffineHead:
    """Walk back from the output through BN1d <- Gemm <- Flatten <- BN2d to the last map."""
    from onnx import numpy_helper

    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:  # exporters also write tensors as Constant or Identity nodes
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            init[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Identity" and node.input[0] in init:
            init[node.output[0]] = init[node.input[0]]
    producer = {out: node for node in graph.node for out in node.output}

    def expect(name: str, op: str):
        node = producer.get(name)
        if node is None or node.op_type != op:
            found = "a graph input" if node is None else node.op_type
            raise ModelNotFoundError(
                f"not an ArcFace-style head: expected {op} before '{name}', found {found}"
            )
        return node

    feature_bn = expect(graph.output[0].name, "BatchNormalization")
    gemm = expect(feature_bn.input[0], "Gemm")
    flatten = expect(gemm.input[0], "Flatten")
    map_bn = expect(flatten.input[0], "BatchNormalization")
    trans_b = next((a.i for a in gemm.attribute if a.name == "transB"), 0)
    weight = init[gemm.input[1]].astype(np.float64)
    weight = weight if trans_b else weight.T  # D x (C*H*W)
    fc_bias = init[gemm.input[2]].astype(np.float64) if len(gemm.input) > 2 else 0.0
    s, t = _bn(init, feature_bn)
    g, beta = _bn(init, map_bn)
    channels = g.size
    cells = weight.shape[1] // channels
    side = int(round(np.sqrt(cells)))
    if side * side * channels != weight.shape[1]:
        raise ModelNotFoundError(f"FC input {weight.shape[1]} is not {channels} x a square map")
    w = weight.reshape(-1, channels, cells)  # D x C x P (flatten order c, h, w)
    cell_maps = np.einsum("d,dcp,c->pdc", s, w, g)
    constant = s * (np.einsum("dcp,c->d", w, beta) + fc_bias) + t
    return AffineHead(map_bn.input[0], cell_maps, constant, (channels, side, side))


def _normalises_itself(graph) -> bool:
    """insightface's rule: a graph starting with Sub and Mul/Div takes raw 0..255 pixels."""
    ops = [n.op_type for n in graph.node if n.op_type not in ("Identity", "Constant")]
    first = ops[:8]
    return "Sub" in first and ("Mul" in first or "Div" in first)


class PackRecognitionModel:
    """A pack's recognition ONNX, decomposed over its 7x7 map (plus the head's bias)."""

    input_size = 112
    kind = ModelKind.GRID
    score_tensor = staticmethod(cosine_score_tensor)  # the score is the cosine

    def __init__(self, model_id: str, path: Path):
        import onnx
        import onnxruntime as ort

        self.id = model_id
        self.path = path
        model = onnx.load(str(path))
        self.head = parse_head(model.graph)
        self.raw_pixels = _normalises_itself(model.graph)
        model.graph.output.append(onnx.ValueInfoProto(name=self.head.map_name))
        self.session = ort.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [model.graph.output[0].name, self.head.map_name]
        self.sha256 = sha256_file(path)
        self.layout = grid_layout(self.head.map_shape[1], self.input_size)
        self.label = (
            f"insightface pack model {path.parent.name}/{path.name} (local file, its own "
            "licence); cells are grid cells"
        )

    def describe(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "label": self.label,
            "weights_file": str(self.path),
            "weights_sha256": self.sha256,
            "source": {"kind": "local insightface pack", "folder": str(self.path.parent)},
            "license": "the pack's own (not bundled; buffalo_l/antelopev2: non-commercial)",
            "input": {
                "alignment": "insightface arcface_dst 5-point template, 112 px",
                "normalisation": "inside the graph"
                if self.raw_pixels
                else "(x - 127.5) / 127.5, RGB",
            },
            "decomposition": "affine head in the last map: "
            f"{self.layout.count}x{self.layout.count} cell terms plus bias terms (float64)",
        }

    def _run(self, faces_nchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = faces_nchw.astype(np.float32)
        if not self.raw_pixels:
            x = (x - 127.5) / 127.5
        embedding, maps = self.session.run(self.output_names, {self.input_name: x})
        return embedding.astype(np.float64), maps.astype(np.float64)

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        embedding, maps = self._run(np.asarray(faces).transpose(0, 3, 1, 2))
        b, c = maps.shape[:2]
        per_cell = maps.reshape(b, c, -1)  # B x C x P
        cells = np.einsum("pdc,bcp->bpd", self.head.cell_maps, per_cell)
        rebuilt = cells.sum(axis=1) + self.head.constant
        gap = np.abs(rebuilt - embedding).max() / max(np.abs(embedding).max(), 1e-12)
        if gap > HEAD_TOLERANCE:
            raise ModelNotFoundError(
                f"{self.path.name}: the parsed head does not reproduce the graph's output "
                f"(relative gap {gap:.1e})"
            )
        return [CellFeatures(cells=cell, bias=self.head.constant) for cell in cells]

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Embeddings through ONNX Runtime: NOT differentiable (no gradient explainers)."""
        embedding, _ = self._run(x.detach().cpu().numpy())
        return torch.from_numpy(embedding.astype(np.float32)).to(x.device)

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(f"{self.id} runs in ONNX Runtime: no gradients for Grad-CAM")


def load_pack_model(model_id: str) -> PackRecognitionModel:
    """`pack:<folder>/<stem>` from the pack folders, or a path to an ONNX file."""
    path = pack_models().get(model_id)
    if path is None and model_id.endswith(".onnx") and Path(model_id).is_file():
        path = Path(model_id)
    if path is None:
        raise ModelNotFoundError(
            f"unknown pack model '{model_id}': not found in "
            f"{', '.join(str(p) for p in pack_dirs()) or 'any pack folder'} "
            f"(--model-pack DIR, ${ENV_VAR}, ~/.insightface/models)"
        )
    return PackRecognitionModel(model_id, path)
