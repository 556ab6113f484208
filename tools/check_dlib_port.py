"""Prove the dlib-ResNet port against dlib itself, and fit the chip template it uses.

    PYTHONPATH=. python tools/check_dlib_port.py --dlib-python /work/venvs/dlib/bin/python \
        [--fit-template] [--write-fixture] [--lfw /work/shared/data/lfw-dev --lfw-limit 300]

dlib runs only in its own venv (tools/dlib_reference.py, called as a subprocess).

* --fit-template: on the photos, map MTCNN's five landmarks through dlib's own chip
  transform (its 5-point shape -> dlib's reference points) and average them: the template
  `core/dlib_chip.py` uses. Also reports how far our warp with dlib's transform is from
  dlib's own chip (mean absolute pixel difference).
* always: the port's descriptor vs dlib's `compute_face_descriptor` on the SAME chips
  (Patchwise's chips of the shared photos, and seeded synthetic chips): cosine per chip;
  and the end-to-end agreement (MTCNN + our chip + the port vs face_recognition's HOG
  detector + 5-point landmarks + dlib chip + dlib).
* --write-fixture: store dlib's descriptors of those chips (and each chip's SHA-256) in
  tests/fixtures/conversion/dlib-resnet.npz for tests/test_dlib_port.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "tools"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from convert_models import write_npz  # noqa: E402

from core.dlib_chip import align_dlib_chip, dlib_reference_points, similarity, warp_chip  # noqa: E402
from core.file_hash import sha256_bytes  # noqa: E402

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "conversion" / "dlib-resnet.npz"
SHARED = Path("/work/shared/data")
SYNTHETIC_SEED = 1234
SYNTHETIC_COUNT = 3


def synthetic_chips() -> np.ndarray:
    """Seeded noise chips and a colour gradient: inputs with a known, reproducible origin."""
    rng = np.random.default_rng(SYNTHETIC_SEED)
    noise = rng.integers(0, 256, (SYNTHETIC_COUNT - 1, 150, 150, 3), dtype=np.uint8)
    ramp = np.linspace(0, 255, 150)
    gradient = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 255 - ramp[None, :]), -1)
    return np.concatenate([noise, gradient[None].astype(np.uint8)])


def shared_photos() -> list[Path]:
    """The shared identity photos, sorted (the fixture's inputs)."""
    return sorted(p for p in (SHARED / "faces" / "identities").rglob("*") if p.is_file())


def run_dlib(dlib_python: str, chips: np.ndarray | None, images: list[Path]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        request = {"images": [str(p) for p in images]}
        if chips is not None:
            np.save(f"{tmp}/chips.npy", chips)
            request["chips"] = f"{tmp}/chips.npy"
        Path(f"{tmp}/request.json").write_text(json.dumps(request), encoding="utf-8")
        script = REPO_ROOT / "tools" / "dlib_reference.py"
        subprocess.run(
            [dlib_python, str(script), f"{tmp}/request.json", f"{tmp}/out.npz"], check=True
        )
        return dict(np.load(f"{tmp}/out.npz"))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def mtcnn_faces(engine, images: list[Path]) -> list:
    """Largest MTCNN face (or None) per photo."""
    faces = []
    for path in images:
        prepared = engine.prepare(path)
        faces.append((prepared.evidence.rgb, prepared.faces[0] if prepared.faces else None))
    return faces


def fit_template(engine, images: list[Path], dlib_out: dict) -> None:
    mapped, pixel_gaps = [], []
    for (rgb, face), found, shape, dlib_chip in zip(
        mtcnn_faces(engine, images),
        dlib_out["found"],
        dlib_out["landmarks5"],
        dlib_out["dlib_chips"],
        strict=True,
    ):
        if face is None or not found:
            continue
        to_chip = similarity(shape, dlib_reference_points())
        ours = np.asarray(face.landmarks, dtype=np.float64).reshape(5, 2)
        in_chip = ours @ to_chip[:, :2].T + to_chip[:, 2]
        # Skip photos where the two detectors picked different people.
        if np.abs(in_chip[:2] - [[48, 48], [102, 48]]).max() > 20:
            continue
        mapped.append(in_chip)
        pixel_gaps.append(np.abs(warp_chip(rgb, to_chip).astype(float) - dlib_chip).mean())
    mapped = np.array(mapped)
    print(f"template fit on {len(mapped)} photos (both detectors found the same face)")
    print("MTCNN_POINTS_IN_DLIB_CHIP =", np.round(mapped.mean(0), 4).tolist())
    print("per-point spread (std, px):", np.round(mapped.std(0), 2).tolist())
    print(
        f"our warp with dlib's transform vs dlib's chip: mean |pixel difference| "
        f"{np.mean(pixel_gaps):.2f} (median {np.median(pixel_gaps):.2f}) of 255"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dlib-python", required=True, help="python of a venv with dlib")
    ap.add_argument("--fit-template", action="store_true")
    ap.add_argument("--write-fixture", action="store_true")
    ap.add_argument("--lfw", type=Path, help="LFW development photos (for fit and agreement)")
    ap.add_argument("--lfw-limit", type=int, default=300)
    args = ap.parse_args(argv)

    from core.detection.select import make_detector
    from core.engine import Engine
    from core.models.registry import load_model

    cpu = torch.device("cpu")
    engine = Engine(make_detector("mtcnn", device=cpu), cpu)
    lfw = sorted(args.lfw.rglob("*.jpg"))[: args.lfw_limit] if args.lfw else []
    if args.fit_template:
        images = lfw or shared_photos()
        fit_template(engine, images, run_dlib(args.dlib_python, None, images))
        return 0

    model = load_model("dlib-resnet", cpu)
    photos = shared_photos()
    chips = np.stack(
        [align_dlib_chip(rgb, f.landmarks).image for rgb, f in mtcnn_faces(engine, photos)]
    )
    all_chips = np.concatenate([chips, synthetic_chips()])
    images = photos + lfw
    dlib_out = run_dlib(args.dlib_python, all_chips, images)
    ours = np.array([f.embedding for f in model.cell_features(all_chips)])
    same_chip = cosines(ours, dlib_out["chip_descriptors"])
    print(
        f"port vs dlib on the same chips ({len(photos)} shared photos + "
        f"{SYNTHETIC_COUNT} synthetic): min cosine {same_chip.min():.6f}, "
        f"max |difference| {np.abs(ours - dlib_out['chip_descriptors']).max():.2e}"
    )

    end_to_end, found = [], dlib_out["found"]
    for n, (rgb, face) in enumerate(mtcnn_faces(engine, images)):
        if face is not None and found[n]:
            ours_e = model.cell_features(align_dlib_chip(rgb, face.landmarks).image[None])[0]
            end_to_end.append(cosines(ours_e.embedding[None], dlib_out["encodings"][n][None])[0])
    end_to_end = np.array(end_to_end)
    print(
        f"end to end (MTCNN + our chip + port vs face_recognition) on {len(end_to_end)} "
        f"photos: median cosine {np.median(end_to_end):.4f}, 5th percentile "
        f"{np.percentile(end_to_end, 5):.4f}, min {end_to_end.min():.4f}; dlib found no "
        f"face in {int((~found).sum())} of {len(images)} photos"
    )
    if args.write_fixture:
        write_npz(
            FIXTURE,
            {
                "photos": np.array([str(p.relative_to(SHARED / "faces")) for p in photos]),
                "chip_sha256": np.array([sha256_bytes(c.tobytes()) for c in chips]),
                "synthetic_seed": np.array(SYNTHETIC_SEED),
                "dlib_descriptors": dlib_out["chip_descriptors"].astype(np.float64),
            },
        )
        print(f"wrote {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
