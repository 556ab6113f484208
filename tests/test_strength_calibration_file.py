"""Calibration files: round trip, model checks, damage detection, evidence sections."""

import json

import numpy as np
import pytest

from core.errors import CalibrationError
from core.strength_of_evidence.calibration_file import (
    DEMO_LABEL,
    DEMO_STATUS,
    build_calibration,
    load_calibration,
    write_calibration,
)
from core.strength_of_evidence.evidence_section import evidence_for

MODEL = {
    "id": "faceres",
    "label": "test model",
    "weights_file": "w.safetensors",
    "weights_sha256": "ab" * 32,
}
DETECTOR = {"id": "mtcnn"}
DATASET = {"file_list_sha256": "cd" * 32, "files": []}


def _scores(seed=0, n_genuine=60, n_impostor=240):
    rng = np.random.default_rng(seed)
    scores = np.r_[rng.normal(0.75, 0.08, n_genuine), rng.normal(0.35, 0.1, n_impostor)]
    return scores, np.r_[np.ones(n_genuine, bool), np.zeros(n_impostor, bool)]


@pytest.fixture(scope="module", params=["logistic", "kde", "isotonic"])
def calibration_file(request, tmp_path_factory):
    scores, same = _scores()
    data = build_calibration(
        scores,
        same,
        model=MODEL,
        detector=DETECTOR,
        dataset=DATASET,
        kind=request.param,
        folds=4,
        seed=3,
        name="unit",
        demo=True,
    )
    path = tmp_path_factory.mktemp("cal") / f"{request.param}.json"
    write_calibration(path, data)
    return path, data


def test_file_records_provenance_and_round_trips(calibration_file):
    path, data = calibration_file
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(data))
    assert on_disk["label"] == DEMO_LABEL and on_disk["kind"] == "demo"
    assert on_disk["model"]["weights_sha256"] == MODEL["weights_sha256"]
    assert on_disk["created"]["lir_version"] == "1.3.1"
    assert on_disk["counts"] == {"pairs": 300, "genuine": 60, "impostor": 240}
    assert len(on_disk["cscore"]["folds"]) == 4
    assert len(on_disk["scores"]["genuine"]) == 60
    loaded = load_calibration(path, MODEL)
    assert loaded.status == DEMO_STATUS and loaded.is_demo
    grid = np.asarray(on_disk["curve"]["cosine"])
    assert np.allclose(loaded.log10_lr(grid), on_disk["curve"]["log10_lr"], atol=1e-9)
    lower, upper = loaded.elub
    assert lower <= 0 <= upper
    assert on_disk["metrics"]["cross_validated_bounded"]["cllr"] < 0.5


def test_model_or_weights_mismatch_is_rejected(calibration_file):
    path, _ = calibration_file
    with pytest.raises(CalibrationError, match="made for model 'faceres', not 'mobileface'"):
        load_calibration(path, {**MODEL, "id": "mobileface"})
    with pytest.raises(CalibrationError, match="weights sha256"):
        load_calibration(path, {**MODEL, "weights_sha256": "00" * 32})


def test_edited_scores_are_detected(calibration_file, tmp_path):
    path, data = calibration_file
    edited = json.loads(json.dumps(data))
    edited["scores"]["genuine"][0] -= 0.3
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(edited))
    with pytest.raises(CalibrationError, match="does not reproduce"):
        load_calibration(bad, MODEL)


def test_unreadable_or_foreign_files_are_clear_errors(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(CalibrationError, match="cannot read"):
        load_calibration(missing, MODEL)
    other = tmp_path / "other.json"
    other.write_text('{"schema": "something/1"}')
    with pytest.raises(CalibrationError, match="not a calibration file"):
        load_calibration(other, MODEL)


def test_strength_section_with_calibration(calibration_file):
    path, data = calibration_file
    calibration = load_calibration(path, MODEL)
    lower, upper = calibration.elub
    strong = evidence_for(0.95, calibration)
    assert strong.decision == "same" and strong.calibration_status == DEMO_STATUS
    assert strong.log10_lr == pytest.approx(min(strong.log10_lr_unbounded, upper))
    assert strong.lr == pytest.approx(10**strong.log10_lr)
    assert strong.verbal["supports"] == "hp"
    assert 0.5 <= strong.c_score["c_score"] <= 1.0
    weak = evidence_for(0.05, calibration)
    assert weak.decision == "different" and weak.verbal["supports"] == "hd"
    assert weak.log10_lr >= lower
    as_json = json.loads(json.dumps(strong.to_json()))
    assert as_json["calibration"]["label"] == DEMO_LABEL
    assert as_json["verbal"]["scale_version"] == as_json["verbal_scale"]["version"]
    assert as_json["threshold"]["cosine"] == data["threshold"]["cosine"]


def test_uncalibrated_evidence_uses_the_documented_default_threshold():
    from core.strength_of_evidence.evidence_section import default_threshold

    entry = default_threshold("faceres")
    assert entry is not None and "shared" in entry["measured_on"]
    result = evidence_for(entry["cosine"] + 0.01, None, model_id="faceres")
    assert result.calibration_status == "uncalibrated" and result.decision == "same"
    assert result.lr is None and result.c_score is None and result.verbal is None
    unknown = evidence_for(0.5, None, model_id="no-such-model")
    assert unknown.threshold is None and unknown.decision is None


def test_too_few_pairs_for_folds_is_a_clear_error():
    scores, same = _scores(n_genuine=3, n_impostor=30)
    with pytest.raises(CalibrationError, match="too few pairs"):
        build_calibration(
            scores, same, model=MODEL, detector=DETECTOR, dataset=DATASET, folds=5, name="tiny"
        )


BUNDLED = ("faceres", "mobileface", "faceres-rrf56", "faceres-rrf28")


@pytest.mark.parametrize("model_id", BUNDLED)
def test_bundled_demo_calibrations_load_and_say_demo(model_id):
    import torch

    from core.models.registry import load_model
    from core.strength_of_evidence.calibration_file import default_calibration_path
    from core.strength_of_evidence.evidence_section import default_threshold

    path = default_calibration_path(model_id)
    assert path is not None
    calibration = load_calibration(path, load_model(model_id, torch.device("cpu")).describe())
    assert calibration.is_demo and calibration.data["label"] == DEMO_LABEL
    assert "not for casework" in evidence_for(0.5, calibration).calibration_status
    assert default_threshold(model_id)["cosine"] == pytest.approx(
        calibration.data["metrics"]["verification"]["eer_threshold"], abs=1e-6
    )


def test_demo_keyword_picks_the_bundled_calibration():
    from core.strength_of_evidence.calibration_choice import load_chosen_calibration
    from core.strength_of_evidence.calibration_file import default_calibration_path

    made_for = json.loads(default_calibration_path("mobileface").read_text())["model"]
    assert load_chosen_calibration(None, made_for) is None
    assert load_chosen_calibration("none", made_for) is None
    assert load_chosen_calibration("demo", made_for).is_demo
    with pytest.raises(CalibrationError, match="no bundled DEMO calibration"):
        load_chosen_calibration("demo", {**made_for, "id": "no-such-model"})
