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
        "--sanity",
        "--sanity-levels",
        "1",
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
    assert fid["mode"] == "single" and set(fid["worse_than_random"]) == {"deletion", "insertion"}
    levels = payload["sanity"]["levels"]
    assert levels[-1]["randomised_layers"] == levels[-1]["of_layers"]  # all layers re-drawn
    assert all(-1.0 <= lv["spearman_mean"] <= 1.0 for lv in levels)
    printed = capsys.readouterr().out
    assert "per-pair score AUC" in printed and "randomisation check" in printed
    assert payload["sanity"]["verdict"]["threshold"] == 0.3 and "Threshold 0.3" in printed


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--method", "sdd", "--model", "mobileface"], "needs --gallery"),
        (["--method", "gradcam", "--model", "faceres-rrf28"], "not available for this model"),
        (["--method", "corrrise", "--masks", "1"], "--masks"),
        (["--method", "gradcampp", "--model", "faceres"], "same map as Grad-CAM"),
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


def _pairs_csv(tmp_path, faces_dir):
    ids = faces_dir / "identities"
    rows = [
        ("obama/obama_1.jpg", "obama/obama_2.jpg", 1),
        ("biden/biden_1.jpg", "biden/biden_2.jpg", 1),
        ("obama/obama_1.jpg", "biden/biden_1.jpg", 0),
    ]
    path = tmp_path / "pairs.csv"
    path.write_text(
        "image_a,image_b,same\n" + "".join(f"{ids / a},{ids / b},{s}\n" for a, b, s in rows)
    )
    return path


@pytest.mark.slow
def test_explain_bench_writes_the_accuracy_table_json_and_plot(tmp_path, faces_dir, capsys):
    out = tmp_path / "bench"
    args = ["--pairs", str(_pairs_csv(tmp_path, faces_dir)), "--model", "mobileface"]
    args += ["--methods", "gradcam,marginals", "--max-pairs", "1", "--steps", "2"]
    args += ["--random-maps", "1", "--detector", "mtcnn", "--out", str(out)]
    assert main(["explain-bench", *args]) == 0
    payload = json.loads((out / "explain_bench.json").read_text())
    assert payload["schema"] == "patchwise.explain_bench/1"
    assert payload["unperturbed_accuracy"] == 1.0 and len(payload["matching_pairs_used"]) == 1
    for name in ("gradcam", "marginals"):
        result = payload["results"][name]
        assert result["mode"] == "single" and result["curves"]["deletion"]["accuracy"][0] == 1.0
        for key in ("deletion_percent", "insertion_percent", "random_deletion_percent"):
            assert 0.0 <= result[key] <= 100.0
        assert set(result["worse_than_random"]) == {"deletion", "insertion"}
    assert cv2.imread(str(out / "explain_bench.png")) is not None
    printed = capsys.readouterr().out
    assert "Del %" in printed and "decomposition marginals" in printed


def test_explain_bench_refuses_an_unknown_method(tmp_path, faces_dir, capsys):
    args = ["--pairs", str(_pairs_csv(tmp_path, faces_dir)), "--methods", "lime"]
    assert main(["explain-bench", *args, "--out", str(tmp_path)]) == 2
    assert "unknown --methods lime" in capsys.readouterr().err
