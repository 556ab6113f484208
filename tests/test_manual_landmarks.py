"""Landmarks placed by hand: parsed, aligned with, recorded in the case and report, re-run."""

from __future__ import annotations

import numpy as np
import pytest

from core.cli import main
from core.errors import UsageError
from core.manual_landmarks import manual_face, parse_landmarks

MODEL = "mobileface"


def test_landmarks_parse_and_frame_a_face():
    points = parse_landmarks("10,20, 30,20, 20,30, 12,40, 28,40")
    assert points.shape == (5, 2) and points[2].tolist() == [20.0, 30.0]
    for bad in ("1,2,3", "a,b,c,d,e,f,g,h,i,j", "1,2,3,4,5,6,7,8,9,nan"):
        with pytest.raises(UsageError, match="ten"):
            parse_landmarks(bad)
    face = manual_face(points, 100, 100)
    x1, y1, x2, y2 = face.box
    assert face.placed_by_hand and x1 < 10 and y1 < 20 and x2 > 30 and y2 > 40
    with pytest.raises(UsageError, match="outside"):
        manual_face(points + 200, 100, 100)


def test_the_detectors_own_points_placed_by_hand_give_the_same_score(engine, genuine_small):
    detected = engine.compare(*genuine_small, MODEL)
    points = np.asarray(detected.a.prepared.faces[0].landmarks)
    by_hand = engine.compare(*genuine_small, MODEL, landmarks_a=points)
    assert by_hand.cosine == pytest.approx(detected.cosine, abs=1e-9)
    face = by_hand.to_json()["a"]["faces"][0]
    assert face["placed_by_hand"] and np.allclose(face["landmarks"], points, atol=1e-3)
    assert by_hand.to_json()["b"]["faces"][0]["placed_by_hand"] is False
    shifted = points.copy()
    shifted[4, 0] += 6  # the right mouth corner 6 px to the right
    moved = engine.compare(*genuine_small, MODEL, landmarks_a=shifted)
    assert abs(moved.cosine - detected.cosine) > 1e-6  # the points are really used


@pytest.mark.slow
def test_report_records_hand_placed_landmarks_and_the_rerun_uses_them(
    engine, genuine_small, tmp_path, capsys
):
    from core.case import open_case
    from core.report.pdf_report import write_report  # noqa: F401 - the report module loads

    points = np.asarray(engine.compare(*genuine_small, MODEL).a.prepared.faces[0].landmarks)
    text = ",".join(f"{v:.3f}" for v in points.ravel())
    pdf, pwcase = tmp_path / "r.pdf", tmp_path / "r.pwcase"
    args = ["--model", MODEL, "--detector", "mtcnn", "--device", "cpu"]
    code = main(
        ["report", *genuine_small, "--out", str(pdf), "--save-case", str(pwcase)]
        + ["--landmarks-a", text, *args]
    )
    assert code == 0
    case, _, verification = open_case(pwcase)
    assert verification.ok and np.allclose(case.settings["landmarks"]["A"], points, atol=1e-3)
    assert "landmarks placed by hand" in [entry.action for entry in case.audit_log]
    again = tmp_path / "again.pdf"
    assert main(["report", "--case", str(pwcase), "--out", str(again), *args]) == 0
    assert "re-run: reproduced" in capsys.readouterr().out
