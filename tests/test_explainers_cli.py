"""`python main.py explain`: files written, JSON content, clear refusals; and photo overlays."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from core.cli import main
from core.explainers.overlay import hls_blend, map_to_photo, render_overlay


def _pair(faces_dir):
    ids = faces_dir / "identities"
    return [str(ids / "obama/obama_1.jpg"), str(ids / "obama/obama_2.jpg")]


@pytest.mark.slow
def test_explain_writes_maps_overlays_and_json_with_fidelity(tmp_path, faces_dir, capsys):
    out = tmp_path / "out"
    args = _pair(faces_dir) + [
        "--method",
        "corrrise",
        "--masks",
        "40",
        "--model",
        "mobileface",
        "--detector",
        "mtcnn",
        "--out",
        str(out),
        "--fidelity",
        "--steps",
        "4",
        "--seed",
        "7",
    ]
    assert main(["explain", *args]) == 0
    for side in "ab":
        m = np.load(out / f"corrrise_{side}.npy")
        assert m.shape == (112, 112) and np.isfinite(m).all()
        aligned = cv2.imread(str(out / f"corrrise_{side}_aligned.png"))
        assert aligned.shape == (112, 112, 3)
        photo = cv2.imread(str(out / f"corrrise_{side}_photo.png"))
        assert photo.shape[0] > 112
    payload = json.loads((out / "corrrise.json").read_text())
    assert payload["schema"] == "patchwise.explanation/1"
    ex = payload["explanation"]
    assert ex["seed"] == 7 and ex["forward_passes"] == 80 and ex["parameters"]["masks"] == 40
    fid = payload["fidelity"]
    for key in ("deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc"):
        assert isinstance(fid[key], float)
    assert len(fid["curves"]["a"]["deletion"]) == 5
    assert "deletion AUC" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--method", "sdd", "--model", "mobileface"], "needs --gallery"),
        (["--method", "gradcam", "--model", "faceres-rrf28"], "not available for this model"),
        (["--method", "corrrise", "--masks", "1"], "--masks"),
    ],
)
def test_explain_refuses_clearly(tmp_path, faces_dir, capsys, extra, message):
    args = _pair(faces_dir) + ["--detector", "mtcnn", "--out", str(tmp_path), *extra]
    assert main(["explain", *args]) == 2
    assert message in capsys.readouterr().err


def test_map_is_warped_back_onto_the_photo():
    """A hot spot at aligned (30, 60) lands at the inverse-transformed photo point."""
    from core.alignment import AlignedFace

    transform = np.array([[0.5, 0.1, -20.0], [-0.1, 0.5, 10.0]])
    aligned = AlignedFace(np.zeros((112, 112, 3), np.uint8), transform, 112)
    m = np.zeros((112, 112), np.float32)
    m[58:63, 28:33] = 1.0
    warped, coverage = map_to_photo(m, transform, (400, 500, 3))
    ys, xs = np.nonzero(warped > 0.5)
    y, x = ys.mean(), xs.mean()  # centre of the warped spot
    expected = aligned.to_original(np.array([[30.0, 60.0]]))[0]
    assert abs(x - expected[0]) <= 3 and abs(y - expected[1]) <= 3
    assert coverage.max() == pytest.approx(1.0) and coverage[0, 0] == 0.0


def test_overlay_colours_raising_red_and_lowering_blue():
    face = np.full((10, 10, 3), 100, np.uint8)
    m = np.zeros((10, 10))
    m[0, 0], m[9, 9] = 1.0, -1.0
    out = render_overlay(face, m, "diverging", opacity=1.0)
    assert out[0, 0, 0] > out[0, 0, 2] and out[9, 9, 2] > out[9, 9, 0]
    assert (out[5, 5] == 100).all()  # zero map: the face shows through
    assert render_overlay(face, m, "jet", 0.5).dtype == np.uint8
    blended = hls_blend(face, m)
    assert blended.shape == face.shape and blended[0, 0, 0] > blended[0, 0, 2]
