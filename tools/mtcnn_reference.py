"""MTCNN's reference detections on the shared photos: write them once, check the detector against them.

    PYTHONPATH=. .venv/bin/python tools/mtcnn_reference.py --check [--faces DIR]
    PYTHONPATH=. .venv/bin/python tools/mtcnn_reference.py --write   # only on the reference commit

`tests/fixtures/mtcnn_reference.json` holds, for every photo under the shared
faces folder that loads (identities/, multi_face/, edge_cases/), the boxes, scores
and landmarks that MTCNN found at the commit named in the file (the per-level
torch pyramid and P-Net runs, before the speed work of issue 12). `--check` runs
today's detector on the same photos and prints, per photo and overall, the largest
box and landmark movement in pixels and the largest score change; it exits 1 when
a photo's face count differs or a landmark moved more than `--tolerance` pixels.
`tests/test_mtcnn_reference.py` checks the same on a few of the photos.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import core  # noqa: E402,F401  (sets the OpenMP wait policy before torch loads)
from core.detection.mtcnn import MTCNNDetector  # noqa: E402
from core.photo import load_evidence  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "mtcnn_reference.json"
FACES = REPO.parent / "shared" / "data" / "faces"
IMAGE_EXT = {".jpg", ".jpeg", ".png"}


def photos(faces: Path) -> list[Path]:
    return sorted(p for p in faces.rglob("*") if p.suffix.lower() in IMAGE_EXT)


def detections(detector: MTCNNDetector, path: Path) -> dict:
    rgb = load_evidence(path).rgb
    return {
        "shape": list(rgb.shape[:2]),
        "faces": [
            {
                "box": [round(v, 4) for v in face.box],
                "score": round(face.score, 6),
                "landmarks": np.round(face.landmarks, 4).tolist(),
            }
            for face in detector.detect(rgb)
        ],
    }


def movement(expected: dict, found: dict) -> dict | None:
    """Largest box/landmark movement (px) and score change; None when the face counts differ."""
    if len(expected["faces"]) != len(found["faces"]):
        return None
    pairs = list(zip(expected["faces"], found["faces"], strict=True))
    worst = {"box_px": 0.0, "landmark_px": 0.0, "score": 0.0}
    for old, new in pairs:
        worst["box_px"] = max(
            worst["box_px"], float(np.abs(np.subtract(old["box"], new["box"])).max())
        )
        shift = np.linalg.norm(np.subtract(old["landmarks"], new["landmarks"]), axis=1).max()
        worst["landmark_px"] = max(worst["landmark_px"], float(shift))
        worst["score"] = max(worst["score"], abs(old["score"] - new["score"]))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the fixture from this commit")
    mode.add_argument("--check", action="store_true", help="compare today's detector to it")
    parser.add_argument("--faces", type=Path, default=FACES)
    parser.add_argument("--tolerance", type=float, default=0.5, help="landmark pixels")
    args = parser.parse_args()

    detector = MTCNNDetector()
    if args.write:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        results = {
            str(p.relative_to(args.faces)): detections(detector, p) for p in photos(args.faces)
        }
        FIXTURE.write_text(json.dumps({"made_by_commit": commit, "photos": results}, indent=1))
        print(f"wrote {FIXTURE} ({len(results)} photos, commit {commit[:12]})")
        return 0

    reference = json.loads(FIXTURE.read_text())
    print(f"reference: commit {reference['made_by_commit'][:12]}")
    failed, overall = [], {"box_px": 0.0, "landmark_px": 0.0, "score": 0.0}
    for name, expected in reference["photos"].items():
        worst = movement(expected, detections(detector, args.faces / name))
        if worst is None:
            failed.append(name)
            print(f"{name:45s} FACE COUNT DIFFERS")
            continue
        overall = {k: max(overall[k], worst[k]) for k in overall}
        if worst["landmark_px"] > args.tolerance:
            failed.append(name)
        print(
            f"{name:45s} {len(expected['faces'])} faces  box {worst['box_px']:.4f} px  "
            f"landmarks {worst['landmark_px']:.4f} px  score {worst['score']:.2e}"
        )
    print(
        f"all {len(reference['photos'])} photos: largest box movement {overall['box_px']:.4f} px, "
        f"landmark movement {overall['landmark_px']:.4f} px, score change {overall['score']:.2e}; "
        f"{len(failed)} failed"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
