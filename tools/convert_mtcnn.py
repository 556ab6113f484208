"""Convert the MTCNN weights from the facenet-pytorch wheel into one safetensors file.

Usage:
    python tools/convert_mtcnn.py --wheel facenet_pytorch-2.6.0-py3-none-any.whl
                                  [--out resources/models] [--check]

The PyPI wheel ``facenet-pytorch==2.6.0`` carries the three MTCNN stages as
plain PyTorch state dicts (``facenet_pytorch/data/{pnet,rnet,onet}.pt``). They
are read straight out of the wheel (the package itself is never installed or
imported), loaded with ``torch.load(..., weights_only=True)`` and written to
``<out>/mtcnn.safetensors`` with the keys prefixed ``pnet.``, ``rnet.`` and
``onet.``. This is the only place in Patchwise that unpickles the ``.pt``
files; the engine loads the safetensors file only.

``<out>/manifest.json`` is updated in place: only its ``mtcnn`` entry is
rewritten (other tools own the other entries).

``--check`` converts into a temporary directory and verifies that the result
is bit-identical to the committed file and that the manifest entry matches.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save_file

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from core.file_hash import sha256_bytes, sha256_file  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "resources" / "models"

WHEEL_NAME = "facenet_pytorch-2.6.0-py3-none-any.whl"
STAGES = ("pnet", "rnet", "onet")
MEMBER = "facenet_pytorch/data/{}.pt"
OUT_FILE = "mtcnn.safetensors"
MANIFEST = "manifest.json"


def read_wheel(wheel: Path) -> tuple[dict[str, torch.Tensor], dict[str, str], str]:
    """Return (prefixed tensors, {member: sha256}, wheel license text/classifier)."""
    tensors: dict[str, torch.Tensor] = {}
    member_hashes: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for stage in STAGES:
            member = MEMBER.format(stage)
            if member not in names:
                raise SystemExit(f"error: {wheel} has no member {member}")
            data = zf.read(member)
            member_hashes[member] = sha256_bytes(data)
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            if not isinstance(state, dict):
                raise SystemExit(f"error: {member} is not a state dict ({type(state).__name__})")
            for key, value in state.items():
                if not isinstance(value, torch.Tensor):
                    raise SystemExit(f"error: {member}:{key} is not a tensor")
                tensors[f"{stage}.{key}"] = value.detach().to(torch.float32).contiguous().clone()
        license_note = _wheel_license(zf)
    return tensors, member_hashes, license_note


def _wheel_license(zf: zipfile.ZipFile) -> str:
    """The license named by the wheel's METADATA (classifier or License field)."""
    meta_names = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
    if not meta_names:
        return "unknown"
    found = []
    for line in zf.read(meta_names[0]).decode("utf-8", "replace").splitlines():
        if not line.strip():
            break  # end of the header block
        if line.startswith("License:") or line.startswith("Classifier: License ::"):
            found.append(line.split(":", 1)[1].strip())
    return "; ".join(found) if found else "unknown"


def convert(wheel: Path, out_dir: Path) -> dict:
    """Write out_dir/mtcnn.safetensors and return the manifest entry for it."""
    wheel = Path(wheel)
    if not wheel.is_file():
        raise SystemExit(f"error: wheel not found: {wheel}")
    tensors, member_hashes, license_note = read_wheel(wheel)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path = out_dir / OUT_FILE
    # safetensors orders the tensors deterministically (by dtype, then name)
    # and writes no timestamps, but it serialises the metadata map in a random
    # order: with more than one metadata key the file is not reproducible. So
    # exactly one key (provenance lives in the manifest).
    save_file(
        dict(sorted(tensors.items())),
        str(out_path),
        metadata={
            "source": f"MTCNN P-Net/R-Net/O-Net from PyPI facenet-pytorch 2.6.0 ({WHEEL_NAME})"
        },
    )
    out_path.chmod(0o644)  # safetensors creates the file owner-only
    return {
        "file": OUT_FILE,
        "sha256": sha256_file(out_path),
        "size_bytes": out_path.stat().st_size,
        "source": {
            "package": "facenet-pytorch",
            "version": "2.6.0",
            "registry": "PyPI",
            "wheel": WHEEL_NAME,
            "wheel_sha256": sha256_file(wheel),
        },
        "source_files": dict(sorted(member_hashes.items())),
        "license": {
            "wheel_metadata": license_note,
            "summary": (
                "facenet-pytorch (Copyright (c) 2019 Timothy Esler) is MIT-licensed. "
                "The MTCNN weights it ships are a conversion of the original Caffe "
                "models released by the MTCNN authors (Kaipeng Zhang, Zhanpeng Zhang, "
                "Zhifeng Li, Yu Qiao: 'Joint Face Detection and Alignment using "
                "Multi-task Cascaded Convolutional Networks', IEEE SPL 2016; "
                "github.com/kpzhang93/MTCNN_face_detection_alignment), via David "
                "Sandberg's facenet port (MIT)."
            ),
            "upstream_weights": (
                "Original MTCNN weights: Kaipeng Zhang et al. The licence terms of the "
                "original release (github.com/kpzhang93/MTCNN_face_detection_alignment) "
                "were not verified by this tool; check them before redistribution."
            ),
        },
        "keys": {
            stage: sorted(k for k in tensors if k.startswith(stage + ".")) for stage in STAGES
        },
        "input": {
            "color": "RGB",
            "layout": "NCHW float32",
            "normalisation": "(x - 127.5) * 0.0078125 on 0..255 pixel values",
            "pnet": "fully convolutional; 12x12 window, stride 2; outputs face prob (2-way softmax) and box regression",
            "rnet": "24x24 crops; outputs face prob and box regression",
            "onet": "48x48 crops; outputs face prob, box regression and 5 landmarks (x1..x5, y1..y5 relative to the crop)",
            "landmark_order": "left eye, right eye, nose, left mouth corner, right mouth corner (image left first; matches insightface arcface_dst)",
            "dense_flatten_order": "R-Net/O-Net dense layers expect the feature map flattened in (W, H, C) order",
        },
    }


def update_manifest(manifest_path: Path, entry: dict) -> None:
    data = {}
    if manifest_path.is_file():
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["mtcnn"] = entry
    manifest_path.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", required=True, type=Path, help=f"path to {WHEEL_NAME}")
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default resources/models)"
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="convert into a temp dir and verify bit-identity with --out",
    )
    args = ap.parse_args(argv)

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            entry = convert(args.wheel, Path(tmp))
            fresh = (Path(tmp) / OUT_FILE).read_bytes()
        target = args.out / OUT_FILE
        ok = True
        if not target.is_file():
            print(f"FAIL: {target} does not exist")
            return 1
        if target.read_bytes() != fresh:
            print(f"FAIL: {target} differs from a fresh conversion")
            ok = False
        manifest_path = args.out / MANIFEST
        if manifest_path.is_file():
            current = json.loads(manifest_path.read_text(encoding="utf-8")).get("mtcnn")
            if current != entry:
                print(f"FAIL: {manifest_path} 'mtcnn' entry differs from a fresh conversion")
                ok = False
        else:
            print(f"FAIL: {manifest_path} does not exist")
            ok = False
        if ok:
            print(f"OK: {target} is bit-identical (sha256 {entry['sha256']})")
        return 0 if ok else 1

    entry = convert(args.wheel, args.out)
    update_manifest(args.out / MANIFEST, entry)
    print(f"wrote {args.out / OUT_FILE} ({entry['size_bytes']} bytes, sha256 {entry['sha256']})")
    print(f"updated {args.out / MANIFEST} [mtcnn]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
