"""End to end on the shared photos: calibrate -> compare --calibration -> validate."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main

SUBSET = {
    "obama": ["obama_1.jpg", "obama_2.jpg", "obama_3.jpg"],
    "biden": ["biden_1.jpg", "biden_2.jpg"],
    "kit_harington": ["kit_harington_1.jpg", "kit_harington_2.jpg"],
}
PLOTS = ("roc.png", "det.png", "tippett.png", "pav.png", "ece.png", "lr_histogram.png")
COMMON = ("--model", "faceres", "--detector", "mtcnn", "--device", "cpu")


@pytest.fixture(scope="module")
def tree(faces_dir, tmp_path_factory):
    """A small identity tree of links to the shared photos (nothing is copied)."""
    root = tmp_path_factory.mktemp("identities")
    for person, names in SUBSET.items():
        (root / person).mkdir()
        for name in names:
            (root / person / name).symlink_to(faces_dir / "identities" / person / name)
    return root


@pytest.fixture(scope="module")
def calibration(tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "lab.json"
    code = main(
        [
            "calibrate",
            "--data",
            str(tree),
            "--out",
            str(out),
            "--folds",
            "3",
            "--name",
            "unit-lab",
            *COMMON,
        ]
    )
    assert code == 0
    return out


@pytest.mark.slow
def test_calibrate_writes_a_traceable_file(calibration):
    data = json.loads(calibration.read_text(encoding="utf-8"))
    assert data["kind"] == "lab" and data["name"] == "unit-lab"
    assert data["counts"]["genuine"] == 3 + 1 + 1
    assert data["counts"]["genuine"] + data["counts"]["impostor"] == 21  # 7 choose 2
    assert len(data["dataset"]["files"]) == 7
    assert all(len(f["sha256"]) == 64 for f in data["dataset"]["files"])
    assert data["dataset"]["failed_images"] == []
    assert data["model"]["id"] == "faceres" and len(data["model"]["weights_sha256"]) == 64


@pytest.mark.slow
def test_compare_with_calibration_adds_the_evidence_section(
    calibration, faces_dir, tmp_path, capsys, no_network
):
    out = tmp_path / "cmp.json"
    a = faces_dir / "identities/obama/obama_5_1080p.jpg"
    b = faces_dir / "identities/obama/obama_1.jpg"
    code = main(
        [
            "compare",
            str(a),
            str(b),
            "--calibration",
            str(calibration),
            "--json",
            str(out),
            "--top",
            "0",
            *COMMON,
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    evidence = result["evidence"]
    assert evidence["score"]["cosine"] == pytest.approx(result["score"]["cosine"])
    assert evidence["calibration_status"] == "lab calibration: unit-lab"
    lower, upper = evidence["elub_log10"]
    assert lower <= evidence["log10_lr"] <= upper
    assert evidence["lr"] == pytest.approx(10 ** evidence["log10_lr"])
    assert 0.5 <= evidence["c_score"]["c_score"] <= 1.0
    assert evidence["verbal"]["category"] and evidence["verbal_scale"]["version"]
    # A genuine pair (two photos of one person) at the calibration's EER threshold.
    assert evidence["score"]["cosine"] >= evidence["threshold"]["cosine"]
    assert evidence["decision"] == "same"
    assert "LR" in printed and evidence["verbal"]["statement"] in printed


@pytest.mark.slow
def test_compare_without_calibration_is_uncalibrated(faces_dir, tmp_path, capsys):
    out = tmp_path / "cmp.json"
    a = faces_dir / "identities/biden/biden_1.jpg"
    b = faces_dir / "identities/biden/biden_2.jpg"
    assert main(["compare", str(a), str(b), "--json", str(out), "--top", "0", *COMMON]) == 0
    evidence = json.loads(out.read_text(encoding="utf-8"))["evidence"]
    assert evidence["calibration_status"] == "uncalibrated"
    assert evidence["lr"] is None and evidence["threshold"]["cosine"] is not None
    assert "uncalibrated" in capsys.readouterr().out


def test_calibration_of_another_model_is_rejected(calibration, faces_dir, capsys):
    a = str(faces_dir / "identities/biden/biden_1.jpg")
    code = main(
        [
            "compare",
            a,
            a,
            "--calibration",
            str(calibration),
            "--model",
            "mobileface",
            "--detector",
            "mtcnn",
            "--device",
            "cpu",
        ]
    )
    assert code == 10
    assert "made for model 'faceres', not 'mobileface'" in capsys.readouterr().err


def _assert_real_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
    pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 200
    assert pixels.std() > 5  # drawn content, not a blank canvas


@pytest.mark.slow
def test_validate_writes_report_and_plots(calibration, tree, tmp_path, capsys):
    csv = tmp_path / "pairs.csv"
    rows = [
        "image_a,image_b,same",
        "obama/obama_1.jpg,obama/obama_2.jpg,1",
        "obama/obama_2.jpg,obama/obama_3.jpg,1",
        "biden/biden_1.jpg,biden/biden_2.jpg,1",
        "kit_harington/kit_harington_1.jpg,kit_harington/kit_harington_2.jpg,1",
        "obama/obama_1.jpg,biden/biden_1.jpg,0",
        "obama/obama_2.jpg,biden/biden_2.jpg,0",
        "biden/biden_2.jpg,kit_harington/kit_harington_1.jpg,0",
        "obama/obama_3.jpg,kit_harington/kit_harington_2.jpg,0",
    ]
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "validation"
    code = main(
        [
            "validate",
            "--pairs",
            str(csv),
            "--root",
            str(tree),
            "--calibration",
            str(calibration),
            "--out",
            str(out),
            *COMMON,
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    for key in ("auc", "eer", "cllr", "cllr_min", "cllr_cal"):
        assert isinstance(report[key], float)
    assert report["counts"] == {"pairs": 8, "genuine": 4, "impostor": 4}
    assert report["failures"]["failed_images"] == []
    assert report["cllr_min"] <= report["cllr"] + 1e-12
    assert report["calibration"]["name"] == "unit-lab"
    assert report["plots"] == list(PLOTS)
    for name in PLOTS:
        _assert_real_png(out / name)


@pytest.mark.slow
def test_scoring_takes_progress_and_can_be_cancelled(tree):
    import threading

    import torch

    from core.detection.select import make_detector
    from core.engine import Engine
    from core.explainers.base import Cancelled
    from core.strength_of_evidence.pair_sets import pairs_from_identity_tree
    from core.strength_of_evidence.scored_pairs import score_pairs

    device = torch.device("cpu")
    engine = Engine(make_detector("mtcnn", device=device), device)
    stop = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        stop.set()

    with pytest.raises(Cancelled, match="after 1 of 7 images"):
        score_pairs(
            engine, pairs_from_identity_tree(tree), "faceres", progress=progress, cancel=stop
        )
    assert seen == [(1, 7)]
