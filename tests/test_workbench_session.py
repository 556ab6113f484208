"""The Qt-free workbench session on real photos: compare, calibrate, save and reopen a case.

The GUI drives exactly these calls (through its workers); here they run inline.
"""

from __future__ import annotations

import pytest

from core.errors import CalibrationError
from core.workbench.jobs import compare_job, prepare_job
from core.workbench.session import Session
from core.workbench.state import SIDES, Event

MODEL = "mobileface"


def run(job):
    """A worker job run inline: no progress display, never cancelled."""
    return job(lambda *_: None, lambda: False)


def compared_session(engine, q: str, k: str, calibration: str = "demo") -> Session:
    session = Session(engine, MODEL, calibration=calibration)
    state = session.state
    for side, path in zip(SIDES, (q, k), strict=True):
        state.set_photo(side, path)
        state.set_prepared(side, run(prepare_job(engine, path)))
    prepared = state.prepared
    state.set_comparison(run(compare_job(engine, prepared["q"], prepared["k"], MODEL, 0, 0)))
    return session


def test_a_session_compares_saves_and_reopens_a_case(engine, genuine_small, tmp_path):
    session = compared_session(engine, *genuine_small)
    state = session.state
    events = []
    state.subscribe(Event.CASE, lambda: events.append(Event.CASE))
    assert state.dirty and state.comparison.model["kind"] == "grid"
    calibration = session.calibration()
    assert calibration.is_demo and session.evidence(calibration).log10_lr is not None
    assert state.set_case_details({"examiner": "Łukasz Żółć", "case_id": "S-1"})
    path = str(tmp_path / "s.pwcase")
    case = session.save(path)
    assert not state.dirty and state.case is case and state.case_path == path
    assert case.case_id == "S-1" and case.examiner == "Łukasz Żółć"
    actions = [entry.action for entry in case.audit_log]
    assert actions == ["case created", "evidence computed", "case details edited", "case saved"]
    assert case.settings["calibration"]["demo"] and events

    again = session.save(path)  # nothing changed: only the save is logged
    assert [entry.action for entry in again.audit_log] == [*actions, "case saved"]

    fresh = Session(engine, "faceres")
    opened = fresh.read(path)
    assert opened.verification.ok
    originals = opened.originals()
    assert set(originals) == set(SIDES) and originals["q"][1] == session.originals()["A"]
    fresh.restore(opened)
    assert fresh.state.model_id == MODEL and fresh.state.case is opened.case
    assert not fresh.state.dirty


def test_another_pair_replaces_the_case_comparison_and_says_so(engine, genuine_small, faces_dir):
    session = compared_session(engine, *genuine_small, calibration="none")
    case, _ = session.current_case()
    other = str(faces_dir / "identities" / "obama" / "obama_1.jpg")
    state = session.state
    state.set_photo("k", other)
    state.set_prepared("k", run(prepare_job(engine, other)))
    prepared = state.prepared
    state.set_comparison(run(compare_job(engine, prepared["q"], prepared["k"], MODEL, 0, 0)))
    updated, _ = session.current_case()
    assert updated is case and updated.input("B").name == "obama_1.jpg"
    assert [e.action for e in updated.audit_log][-2:] == [
        "comparison replaced",
        "evidence computed",
    ]
    assert updated.settings["calibration"] is None


def test_a_missing_demo_calibration_is_an_error_only_on_demand(engine, genuine_small):
    session = compared_session(engine, *genuine_small, calibration="none")
    assert session.calibration() is None
    session.choose_calibration(str(genuine_small[0]))  # a photo is no calibration file
    with pytest.raises(CalibrationError):
        session.calibration()


def test_the_examiners_threshold_is_recorded_beside_the_default(engine, genuine_small, tmp_path):
    session = compared_session(engine, *genuine_small, calibration="none")
    result = session.evidence(None)
    assert session.decision_threshold(result) == (result.threshold, result.threshold_source)
    session.choose_threshold(0.95)
    threshold, source = session.decision_threshold(result)
    assert threshold == 0.95 and source.startswith("set by the examiner (default ")
    assert session.state.undo.undo_label == "threshold"
    case = session.save(str(tmp_path / "t.pwcase"))
    assert case.settings["threshold"] == 0.95
    assert "examiner threshold set" in [entry.action for entry in case.audit_log]
    session.choose_calibration("demo")  # a calibration brings its own threshold
    calibrated = session.evidence(session.calibration())
    assert session.decision_threshold(calibrated)[0] == calibrated.threshold


@pytest.mark.slow
def test_an_xmap_job_reports_provisional_maps_then_fidelity_completes_the_record(
    engine, genuine_small, monkeypatch, tmp_path
):
    from core.explainers import base
    from core.workbench.jobs import explain_job, fidelity_job

    monkeypatch.setenv("PATCHWISE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(base, "PARTIAL_EVERY_S", 0.0)  # a provisional map after every batch
    session = compared_session(engine, *genuine_small)
    comparison = session.state.comparison
    reports = []
    result = explain_job("X-Map III", comparison, None, "onnx")(
        lambda fraction, text, partial=None: reports.append((fraction, text, partial)),
        lambda: False,
    )
    partials = [p for *_, p in reports if p is not None]
    assert partials and all(p["map_a"].shape == (112, 112) for p in partials)
    assert all(0 < p["done"] < p["total"] == 2346 for p in partials)
    assert "refining — " in reports[-1][1] and " s left" in reports[-1][1]
    assert result["figures"] is None and "being measured" in result["info"]
    assert result["explanation"].runtime["runtime"] == "onnx"
    key = session.map_key("X-Map III")
    session.store_map(key, result)
    case, _ = session.current_case()
    assert case.results["explainers"] == []  # not recorded before its fidelity is measured
    figures = run(fidelity_job("X-Map III", comparison, result["explanation"], "onnx"))
    session.store_figures(key, "X-Map III", figures)
    assert "deletion AUC" in session.cached_map("X-Map III")["info"]
    case, _ = session.current_case()
    assert [e["method"] for e in case.results["explainers"]] == ["xmap"]
    assert case.results["explainers"][0]["explanation"]["runtime"]["runtime"] == "onnx"


def test_a_sanity_job_is_kept_with_its_map_and_saved_in_the_case(engine, genuine_small, tmp_path):
    from core.case.case_file import open_case
    from core.explainers.base import Cancelled
    from core.workbench.jobs import explain_job, fidelity_job, sanity_job

    session = compared_session(engine, *genuine_small)
    comparison = session.state.comparison
    result = run(explain_job("Grad-CAM", comparison, None, "torch"))
    key = session.map_key("Grad-CAM")
    session.store_map(key, result)
    session.store_figures(
        key, "Grad-CAM", run(fidelity_job("Grad-CAM", comparison, result["explanation"]))
    )
    with pytest.raises(Cancelled):
        sanity_job("Grad-CAM", comparison, result)(lambda *_: None, lambda: True)
    reports = []
    outcome = sanity_job("Grad-CAM", comparison, result)(
        lambda fraction, text: reports.append((fraction, text)), lambda: False
    )
    levels = outcome["sanity"]["levels"]
    assert [lv for lv, _, _ in outcome["maps"]] == levels  # each level's randomised maps
    assert all(a.shape == (112, 112) for _, a, _ in outcome["maps"])
    assert reports[-1][0] == 1.0 and "sanity check — " in reports[-1][1]
    session.store_sanity(key, outcome["sanity"])
    path = str(tmp_path / "sanity.pwcase")
    session.save(path)
    saved, _, verification = open_case(path)
    assert verification.ok
    (record,) = saved.results["explainers"]
    assert record["sanity"]["levels"] == levels
    assert record["sanity"]["verdict"]["threshold"] == 0.3
    assert [e.action for e in saved.audit_log].count("explainer sanity check") == 1
