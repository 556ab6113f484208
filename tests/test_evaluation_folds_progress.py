"""`evaluate --folds-column` (a protocol's folds) and tqdm progress outside a terminal."""

from __future__ import annotations

import io

import numpy as np
import pytest

from core.cli import progress as progress_module
from core.errors import UsageError
from core.evaluation import read_pairs_csv
from core.verification_metrics import protocol_fold_accuracy, verification_report


def test_protocol_folds_choose_each_threshold_on_the_other_folds():
    # Fold "a" picks threshold 0.8, which misclassifies fold "b"'s genuine 0.45 pair;
    # fold "b"'s threshold (0.45) classifies fold "a" perfectly: (1.0 + 0.75) / 2.
    scores = np.array([0.9, 0.8, 0.2, 0.1, 0.9, 0.45, 0.3, 0.1])
    same = np.array([1, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    folds = np.array(["a"] * 4 + ["b"] * 4)
    result = protocol_fold_accuracy(scores, same, folds)
    assert result["fold_names"] == ["a", "b"]
    assert result["per_fold"] == [1.0, 0.75]
    assert result["mean"] == pytest.approx(0.875)
    report = verification_report(scores, same, folds=folds)
    assert report["cv_accuracy"]["folds"] == "protocol"
    assert verification_report(scores, same)["cv_accuracy"]["folds"] == 10


def test_pairs_csv_reads_the_folds_column(tmp_path):
    csv = tmp_path / "pairs.csv"
    csv.write_text("image_a,image_b,same,fold\na.jpg,b.jpg,1,3\na.jpg,c.jpg,0,7\n")
    pairs = read_pairs_csv(str(csv), folds_column="fold")
    assert [p.fold for p in pairs] == ["3", "7"]
    assert read_pairs_csv(str(csv))[0].fold is None
    with pytest.raises(UsageError, match="missing column"):
        read_pairs_csv(str(csv), folds_column="split")


def test_progress_outside_a_terminal_writes_whole_lines(monkeypatch):
    stream = io.StringIO()  # not a terminal
    monkeypatch.setattr(progress_module.sys, "stderr", stream)
    report = progress_module.image_progress("embedding images")
    for done in range(1, 26):
        report(done, 25)
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.strip().splitlines()
    assert lines and all(line.startswith("embedding images") for line in lines)
    assert "25/25" in lines[-1]
