"""Convert dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`) to safetensors.

Usage (dlib is NOT needed; the file is parsed here):
    python tools/convert_dlib_resnet.py --dat .../face_recognition_models/models/\
dlib_face_recognition_resnet_model_v1.dat --license .../face_recognition_models-0.3.0.dist-info/licenses/LICENSE
                                        [--out resources/models] [--check]

The model file ships in the PyPI package ``face_recognition_models==0.3.0`` (Davis King's
model, CC0 1.0; the package's LICENSE file is the CC0 text). It is a dlib ``serialize``
stream of the whole network, written input first. The parts read here:

* an integer is dlib's ``pack_int``: one byte (low 4 bits = byte count, bit 7 = negative)
  and that many little-endian bytes;
* a string is an integer length and its bytes; each layer starts with its name string;
* a tensor (version 2) is ``version, num_samples, k, nr, nc`` and then the raw little-endian
  float32 values;
* ``input_rgb_image_sized``: three channel means (dlib ``float_details``: integer mantissa
  and exponent), then the 150x150 size;
* ``con_4``: params tensor (filters N x K x R x C, then N biases), then num_filters, nr, nc,
  stride_y, stride_x, padding_y, padding_x;
* ``affine_``: params tensor (gamma, then beta);
* ``fc_2``: num_outputs, num_inputs, params tensor (num_inputs x num_outputs, no bias).

The 29 convolutions and affines appear in the order of ``core/models/dlib_resnet_net.py``'s
modules (stem, then conv1/affine1/conv2/affine2 of every block); kernel sizes, strides and
paddings read from the file are checked against the module. The check that the conversion
is right is numeric: ``tools/dlib_reference.py`` (run where dlib is installed) compares
the torch module with dlib's own ``compute_face_descriptor``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "tools"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from convert_models import update_manifest, write_safetensors  # noqa: E402

from core.file_hash import sha256_file  # noqa: E402
from core.models.dlib_resnet_net import DlibResNet  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "resources" / "models"
MANIFEST = "manifest.json"
KEY = "dlib-resnet"
FILE = "dlib-resnet.safetensors"
PACKAGE = "face_recognition_models"
VERSION = "0.3.0"
DAT_NAME = "dlib_face_recognition_resnet_model_v1.dat"


class DlibStream:
    """Sequential reader of the parts of a dlib serialize stream that the model file uses."""

    def __init__(self, data: bytes, position: int = 0) -> None:
        self.data = data
        self.position = position

    def integer(self) -> int:
        head = self.data[self.position]
        count = head & 0x0F
        value = int.from_bytes(self.data[self.position + 1 : self.position + 1 + count], "little")
        self.position += 1 + count
        return -value if head & 0x80 else value

    def float_details(self) -> float:
        mantissa = self.integer()
        return float(np.ldexp(float(mantissa), self.integer()))

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise ValueError(f"tensor version {version} at byte {self.position}, expected 2")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.position)
        self.position += 4 * count
        return values.reshape(shape).copy()


def _layer_positions(data: bytes, name: str) -> list[int]:
    """Byte offsets just after every serialized string `name` (the layer's fields follow)."""
    marker = bytes([1, len(name)]) + name.encode()
    found, start = [], data.find(marker)
    while start >= 0:
        found.append(start + len(marker))
        start = data.find(marker, start + 1)
    return found


def read_dat(data: bytes) -> dict:
    """The input means, the conv/affine parameters (input first) and the fc matrix."""
    (input_at,) = _layer_positions(data, "input_rgb_image_sized")
    stream = DlibStream(data, input_at)
    means = [stream.float_details() for _ in range(3)]
    size = (stream.integer(), stream.integer())
    convs = []
    for at in _layer_positions(data, "con_4"):
        stream = DlibStream(data, at)
        params = stream.tensor().ravel()
        n, rows, cols, sy, sx, py, px = (stream.integer() for _ in range(7))
        filters = params[: params.size - n]
        convs.append(
            {
                "weight": filters.reshape(n, -1, rows, cols),
                "bias": params[params.size - n :],
                "stride": (sy, sx),
                "padding": (py, px),
            }
        )
    affines = []
    for at in _layer_positions(data, "affine_"):
        params = DlibStream(data, at).tensor().ravel()
        half = params.size // 2
        affines.append({"weight": params[:half], "bias": params[half:]})
    (fc_at,) = _layer_positions(data, "fc_2")
    stream = DlibStream(data, fc_at)
    outputs, inputs = stream.integer(), stream.integer()
    fc = stream.tensor()
    if fc.size != inputs * outputs:  # a bias would add `outputs` more values
        raise ValueError(f"fc params hold {fc.size} values, expected {inputs}x{outputs}")
    fc = fc.reshape(inputs, outputs)
    return {"means": means, "size": size, "convs": convs, "affines": affines, "fc": fc}


def map_weights(parsed: dict) -> dict[str, torch.Tensor]:
    """Module state dict from the parsed layers, checking every shape, stride and padding."""
    module = DlibResNet()
    conv_modules = [module.stem] + [c for b in module.blocks for c in (b.conv1, b.conv2)]
    affine_names = ["stem_affine"] + [
        f"blocks.{i}.{a}" for i in range(len(module.blocks)) for a in ("affine1", "affine2")
    ]
    conv_names = ["stem"] + [
        f"blocks.{i}.{c}" for i in range(len(module.blocks)) for c in ("conv1", "conv2")
    ]
    if len(parsed["convs"]) != len(conv_modules) or len(parsed["affines"]) != len(conv_modules):
        raise ValueError(
            f"found {len(parsed['convs'])} convolutions and {len(parsed['affines'])} affines, "
            f"expected {len(conv_modules)} of each"
        )
    if parsed["size"] != (150, 150):
        raise ValueError(f"input size {parsed['size']}, expected 150x150")
    state = {"input_mean": torch.tensor(parsed["means"], dtype=torch.float32)}
    for name, conv, found in zip(conv_names, conv_modules, parsed["convs"], strict=True):
        if tuple(found["weight"].shape) != tuple(conv.weight.shape):
            raise ValueError(f"{name}: shape {found['weight'].shape} != {tuple(conv.weight.shape)}")
        if found["stride"] != conv.stride or found["padding"] != conv.padding:
            raise ValueError(f"{name}: stride/padding {found['stride']}/{found['padding']}")
        state[f"{name}.weight"] = torch.from_numpy(found["weight"])
        state[f"{name}.bias"] = torch.from_numpy(found["bias"])
    for name, found in zip(affine_names, parsed["affines"], strict=True):
        state[f"{name}.weight"] = torch.from_numpy(found["weight"])
        state[f"{name}.bias"] = torch.from_numpy(found["bias"])
    state["fc.weight"] = torch.from_numpy(np.ascontiguousarray(parsed["fc"].T))
    module.load_state_dict(state, strict=True)  # raises on any remaining shape mismatch
    return state


def convert(dat: Path, license_file: Path, out_dir: Path) -> dict:
    """Write <out_dir>/dlib-resnet.safetensors; return its manifest entry."""
    state = map_weights(read_dat(dat.read_bytes()))
    path = out_dir / FILE
    write_safetensors(path, state, {"source": f"{PACKAGE}=={VERSION}/{DAT_NAME}"})
    license_text = license_file.read_text(encoding="utf-8")
    if not license_text.startswith("CC0 1.0 Universal"):
        raise ValueError(f"{license_file} is not the CC0 1.0 text this converter expects")
    return {
        "converter": "tools/convert_dlib_resnet.py",
        "embedding_dim": 128,
        "file": FILE,
        "input": {
            "alignment": "dlib 5-point face chip, 150 px, padding 0.25, rebuilt from the "
            "detector's 5 landmarks (core/dlib_chip.py)",
            "channel_order": "RGB",
            "layout": "NCHW float32",
            "normalisation": "inside the model: (x - channel mean) / 256, as dlib's "
            "input_rgb_image",
            "size": [150, 150],
            "value_range": [0, 255],
        },
        "license": {
            "file": f"{PACKAGE}-{VERSION}.dist-info/licenses/LICENSE",
            "file_sha256": sha256_file(license_file),
            "spdx": "CC0-1.0",
            "summary": "Davis King's dlib model, released as CC0 1.0 (public domain); the "
            "package's LICENSE file is the CC0 1.0 Universal text (its metadata says MIT).",
        },
        "notes": "29 conv+affine layers, 14 residual blocks, last map 256x2x2, embedding = "
        "fc_no_bias(mean of the 4 cells): 128-d, not L2-normalised.",
        "origin": "dlib face recognition ResNet v1 (Davis King, dlib.net; "
        "dnn_face_recognition_ex.cpp), trained by metric learning on about 3 million faces",
        "sha256": sha256_file(path),
        "size_bytes": path.stat().st_size,
        "source": {"package": PACKAGE, "registry": "PyPI", "version": VERSION},
        "source_files": {f"face_recognition_models/models/{DAT_NAME}": sha256_file(dat)},
        "source_weight_dtypes": ["float32"],
        "spatial_map": {"layout": "C x H x W", "shape": [256, 2, 2]},
        "stored_dtype": "float32",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dat", required=True, type=Path, help=f"the package's {DAT_NAME}")
    ap.add_argument("--license", required=True, type=Path, help="the package's LICENSE file")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default resources/models")
    ap.add_argument(
        "--check", action="store_true", help="verify --out is bit-identical to a fresh conversion"
    )
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            entry = convert(args.dat, args.license, Path(tmp))
            same = (Path(tmp) / FILE).read_bytes() == (args.out / FILE).read_bytes()
        manifest = json.loads((args.out / MANIFEST).read_text(encoding="utf-8"))
        ok = same and manifest.get(KEY) == entry
        print(f"{'OK' if ok else 'FAIL'}: {args.out / FILE} and manifest entry '{KEY}'")
        return 0 if ok else 1
    args.out.mkdir(parents=True, exist_ok=True)
    entry = convert(args.dat, args.license, args.out)
    update_manifest(args.out / MANIFEST, {KEY: entry})
    print(f"wrote {args.out / FILE} ({entry['size_bytes']} bytes, sha256 {entry['sha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
