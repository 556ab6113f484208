"""Validation report on synthetic scores: metrics, curves, real PNGs, Qt-free plotting."""

import json

import numpy as np
import pytest
from PIL import Image

from core.strength_of_evidence.pair_sets import dataset_fingerprint, pairs_from_identity_tree
from core.strength_of_evidence.scored_pairs import ScoredPairs
from core.strength_of_evidence.validation import write_validation


def _scored(seed=0, n_genuine=40, n_impostor=160):
    rng = np.random.default_rng(seed)
    scores = np.r_[rng.normal(0.7, 0.1, n_genuine), rng.normal(0.35, 0.1, n_impostor)]
    same = np.r_[np.ones(n_genuine, bool), np.zeros(n_impostor, bool)]
    evaluation = {
        "model": {"id": "synthetic"},
        "detector": {"id": "none"},
        "images": 0,
        "failed_images": [{"image": "x.jpg", "error": "no face"}],
        "pairs_in_csv": len(scores) + 3,
        "pairs_skipped": 3,
        "per_pair": [
            {"image_a": f"a{i}", "image_b": f"b{i}", "same": bool(y), "cosine": float(s)}
            for i, (s, y) in enumerate(zip(scores, same, strict=True))
        ],
    }
    return ScoredPairs(scores, same, evaluation)


@pytest.mark.slow
def test_method_validation_writes_metrics_curves_and_plots(tmp_path):
    report = write_validation(tmp_path, _scored(), {"file_list_sha256": "x"}, folds=4, seed=1)
    on_disk = json.loads((tmp_path / "validation.json").read_text(encoding="utf-8"))
    assert on_disk["auc"] > 0.95 and on_disk["eer"] < 0.1
    assert on_disk["cllr_min"] <= on_disk["cllr"] < 0.6
    assert on_disk["failures"]["pairs_skipped"] == 3
    assert "4-fold cross-validated logistic" in report["lr_source"]
    lower, upper = on_disk["elub_log10"]
    llrs = [p["log10_lr"] for p in on_disk["per_pair"]]
    assert lower <= min(llrs) and max(llrs) <= upper
    assert len(on_disk["curves"]["tippett"]["log10_lr_genuine"]) == 40
    for name in on_disk["plots"]:
        pixels = np.asarray(Image.open(tmp_path / name).convert("L"), dtype=np.float64)
        assert pixels.std() > 5


def test_identity_tree_pairs_and_fingerprint(tmp_path):
    for person, n in (("ann", 3), ("bob", 2), ("cy", 1)):
        (tmp_path / person).mkdir()
        for i in range(n):
            (tmp_path / person / f"{i}.jpg").write_bytes(f"{person}{i}".encode())
    (tmp_path / "ann" / "notes.txt").write_text("not an image")
    pairs = pairs_from_identity_tree(tmp_path)
    assert sum(p.same for p in pairs) == 3 + 1
    assert sum(not p.same for p in pairs) == 3 * 2 + 3 * 1 + 2 * 1
    sampled = pairs_from_identity_tree(tmp_path, max_impostor=4, seed=5)
    assert sum(not p.same for p in sampled) == 4
    assert sampled == pairs_from_identity_tree(tmp_path, max_impostor=4, seed=5)
    first = dataset_fingerprint(pairs, tmp_path)
    assert [f["path"] for f in first["files"]][:2] == ["ann/0.jpg", "ann/1.jpg"]
    (tmp_path / "bob" / "1.jpg").write_bytes(b"changed")
    assert dataset_fingerprint(pairs, tmp_path)["file_list_sha256"] != first["file_list_sha256"]
