"""Cases: round trip, tamper detection, atomic save, audit chain, re-run (issue 7)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from core.case import Case, engine_for_case, open_case, rerun_case, save_case
from core.case.case_file import MANIFEST
from core.case.environment import git_commit
from core.errors import CaseFileError

MODEL = "mobileface"  # 112 px: the fastest real model


@pytest.fixture(scope="module")
def photos(faces_dir) -> dict[str, Path]:
    root = faces_dir / "identities"
    return {"A": root / "obama" / "obama_5_240p.jpg", "B": root / "obama" / "obama_6_small.jpg"}


@pytest.fixture(scope="module")
def comparison(engine, photos):
    return engine.compare(photos["A"], photos["B"], MODEL)


@pytest.fixture
def case(comparison):
    return Case.from_comparison(comparison, case_id="T-1", examiner="Łukasz Żółć", agency="Lab")


@pytest.fixture
def originals(photos) -> dict[str, bytes]:
    return {role: path.read_bytes() for role, path in photos.items()}


def _rewrite(path: Path, replace_member: str, data: bytes) -> None:
    """Rebuild the zip with one member's bytes replaced (as a tamperer would)."""
    with zipfile.ZipFile(path) as src:
        members = {name: src.read(name) for name in src.namelist()}
    members[replace_member] = data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, content in members.items():
            out.writestr(name, content)
    path.write_bytes(buffer.getvalue())


def test_case_records_what_the_issue_asks(case, comparison):
    data = case.to_json()
    assert data["schema"] == "patchwise.case/1"
    assert [i["sha256"] for i in data["inputs"]] == [
        comparison.a.prepared.evidence.sha256,
        comparison.b.prepared.evidence.sha256,
    ]
    assert data["inputs"][0]["exif_summary"] == comparison.a.prepared.evidence.exif_summary
    assert data["settings"]["model_id"] == MODEL
    assert data["provenance"]["model"]["weights_sha256"] == comparison.model["weights_sha256"]
    software = data["provenance"]["software"]
    assert software["torch"] == torch.__version__ and software["device"] == "cpu"
    assert data["results"]["comparison"]["score"]["cosine"] == comparison.cosine
    assert data["results"]["evidence"] is None and data["results"]["explainers"] == []
    assert data["created_utc"].endswith("Z") and data["audit_log"][0]["action"] == "case created"


def test_round_trip_gives_an_equal_case(case, originals, tmp_path):
    assert Case.from_json(json.loads(json.dumps(case.to_json()))) == case
    path = tmp_path / "c.pwcase"
    save_case(case, path, originals)
    opened, stored, verification = open_case(path)
    assert verification.ok, verification.problems
    assert opened == case  # save_case logged "case saved" into `case` too
    assert opened.audit_log[-1].action == "case saved"
    assert stored == originals  # byte-identical copies


def test_flipping_one_byte_of_a_stored_original_is_detected(case, originals, tmp_path):
    path = tmp_path / "c.pwcase"
    save_case(case, path, originals)
    altered = bytearray(originals["B"])
    altered[len(altered) // 2] ^= 0x01
    _rewrite(path, case.input("B").archive_path, bytes(altered))
    _, _, verification = open_case(path)
    assert not verification.ok
    assert any("image B" in p and "ALTERED" in p for p in verification.problems)
    with pytest.raises(CaseFileError, match="altered or damaged"):
        verification.raise_if_failed(path)


def test_a_byte_flipped_inside_the_archive_is_detected(case, originals, tmp_path):
    path = tmp_path / "c.pwcase"
    save_case(case, path, originals)
    raw = bytearray(path.read_bytes())
    offset = raw.find(originals["A"][1000:1032])  # stored uncompressed, so findable
    assert offset > 0
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))
    _, _, verification = open_case(path)
    assert any("image A" in p for p in verification.problems)


def test_an_edited_audit_log_breaks_the_chain(case, originals, tmp_path):
    case.log("note", "first")
    case.log("note", "second")
    path = tmp_path / "c.pwcase"
    save_case(case, path, originals)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    manifest["audit_log"][1]["detail"] = "rewritten"
    _rewrite(path, MANIFEST, json.dumps(manifest).encode())
    _, _, verification = open_case(path)
    assert any("audit log entry 3" in p for p in verification.problems)


def test_crash_during_save_leaves_the_previous_file_intact(case, originals, tmp_path, monkeypatch):
    path = tmp_path / "c.pwcase"
    save_case(case, path, originals)
    before = path.read_bytes()
    log_before = case.audit_log

    def crash(src, dst):
        assert Path(src).read_bytes()  # the temp file was fully written
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr("core.atomic_write.os.replace", crash)
    case.notes = "changed after the first save"
    with pytest.raises(OSError, match="simulated crash"):
        save_case(case, path, originals)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pwcase"]  # no temp file left
    assert case.audit_log == log_before  # the failed save is not logged


def test_save_refuses_bytes_that_are_not_the_recorded_original(case, originals, tmp_path):
    with pytest.raises(CaseFileError, match="image B"):
        save_case(case, tmp_path / "c.pwcase", {"A": originals["A"], "B": originals["A"]})
    with pytest.raises(CaseFileError, match="missing"):
        save_case(case, tmp_path / "c.pwcase", {"A": originals["A"]})


def test_open_rejects_a_file_that_is_not_a_case(tmp_path):
    path = tmp_path / "x.pwcase"
    path.write_bytes(b"not a zip")
    with pytest.raises(CaseFileError, match="not a zip"):
        open_case(path)
    with pytest.raises(CaseFileError, match="no such file"):
        open_case(tmp_path / "missing.pwcase")


@pytest.mark.slow
def test_rerun_of_an_unchanged_case_is_reproduced(case, originals, engine, tmp_path):
    path = tmp_path / "c.pwcase"
    save_case(case, path, originals)
    opened, stored, _ = open_case(path)
    result = rerun_case(opened, stored, engine_for_case(opened, torch.device("cpu")))
    assert result.reproduced, result.differences
    assert result.measures["cosine_abs_diff"] <= 1e-6
    assert opened.audit_log[-1].action == "re-run"
    assert opened.audit_log[-1].detail.startswith("reproduced")


def test_rerun_reports_a_stored_result_that_differs(case, originals, engine):
    stored = json.loads(json.dumps(case.results))
    stored["comparison"]["score"]["cosine"] += 1e-3
    stored["comparison"]["decomposition"]["pair_matrix"][0][0] += 1e-3
    tampered = replace(case, results=stored)
    result = rerun_case(tampered, originals, engine)
    assert not result.reproduced
    assert any("cosine differs" in d for d in result.differences)
    assert any("pair terms differ" in d for d in result.differences)
    assert tampered.audit_log[-1].detail.startswith("NOT reproduced")


@pytest.mark.slow
def test_strength_and_explainer_are_stored_verified_and_reproduced(
    comparison, originals, engine, tmp_path
):
    from core.case.analyses import add_evidence, add_explanations
    from core.case.workflow import calibration_bytes
    from core.explainers.faithfulness import FidelitySettings
    from core.strength_of_evidence.calibration_choice import load_chosen_calibration

    case = Case.from_comparison(comparison, case_id="T-2")
    calibration = load_chosen_calibration("demo", comparison.model)
    data = calibration_bytes(calibration)
    evidence = add_evidence(case, calibration, data)
    assert evidence["calibration_status"].startswith("DEMO")
    assert case.settings["calibration"]["demo"] is True
    add_explanations(
        case,
        comparison,
        ["gradcam"],
        seed=3,
        fidelity_settings=FidelitySettings(steps=4, random_maps=1),
    )
    assert case.settings["explainers"][0]["seed"] == 3
    assert "deletion_auc" in case.results["explainers"][0]["fidelity"]

    path = tmp_path / "c.pwcase"
    save_case(case, path, {**originals, "calibration": data})
    opened, stored, verification = open_case(path)
    assert verification.ok, verification.problems
    assert opened == case and stored["calibration"] == data
    assert any("calibration file" in line for line in verification.checked)

    result = rerun_case(opened, stored, engine)
    assert result.reproduced, result.differences
    assert len(result.explanations) == 1

    opened.results["evidence"]["log10_lr"] += 0.5  # a tampered stored LR is caught
    again = rerun_case(opened, stored, engine)
    assert any("log10_lr" in d for d in again.differences)


def test_saving_a_calibrated_case_needs_the_calibration_bytes(comparison, originals, tmp_path):
    from core.case.analyses import add_evidence
    from core.case.workflow import calibration_bytes
    from core.strength_of_evidence.calibration_choice import load_chosen_calibration

    case = Case.from_comparison(comparison, case_id="T-3")
    calibration = load_chosen_calibration("demo", comparison.model)
    data = calibration_bytes(calibration)
    add_evidence(case, calibration, data)
    with pytest.raises(CaseFileError, match="calibration file"):
        save_case(case, tmp_path / "c.pwcase", originals)


def test_git_commit_is_none_outside_a_repository(tmp_path):
    assert git_commit(tmp_path) is None
