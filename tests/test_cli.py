"""The CLI: documented exit codes and messages on bad input, JSON output, evaluate, models."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from core.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def real_a(faces_dir):
    return str(faces_dir / "identities/obama/obama_1.jpg")


def _huge_png(path):
    """A valid small PNG whose header claims 100000 x 100000 pixels."""
    Image.new("RGB", (8, 8)).save(path, format="PNG")
    data = bytearray(path.read_bytes())
    start = 8 + 8  # signature, then the IHDR chunk's length and type
    data[start : start + 8] = struct.pack(">II", 100_000, 100_000)
    crc = zlib.crc32(bytes(data[12 : start + 13]))
    data[start + 13 : start + 17] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_compare_writes_json_and_summary(capsys, tmp_path, faces_dir, real_a, no_network):
    out = tmp_path / "result.json"
    b = str(faces_dir / "identities/obama/obama_2.jpg")
    code, stdout, _ = run(
        capsys,
        "compare",
        real_a,
        b,
        "--model",
        "mobileface",
        "--json",
        str(out),
        "--device",
        "cpu",
        "--threads",
        "2",
    )
    assert code == 0
    assert "cosine similarity" in stdout and "residual" in stdout
    doc = json.loads(out.read_text())
    assert doc["decomposition"]["residual"] <= 1e-5
    assert len(doc["decomposition"]["pair_matrix"]) == 16
    assert no_network == []


@pytest.mark.parametrize(
    ("make", "code", "message"),
    [
        (lambda p: p.write_bytes(b""), 3, "empty"),
        (lambda p: p.write_text("this is not a photo\n"), 3, "not a supported image"),
        ("truncated", 3, "truncated"),
        (_huge_png, 4, "pixels"),
        (
            lambda p: Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(p, "JPEG"),
            5,
            "no face",
        ),
    ],
    ids=["zero-bytes", "text-as-jpg", "truncated-jpeg", "huge-png", "no-face"],
)
def test_bad_inputs_give_documented_exit_codes(
    capsys, tmp_path, faces_dir, real_a, make, code, message
):
    bad = tmp_path / "evidence.jpg"
    if make == "truncated":
        whole = (faces_dir / "identities/biden/biden_1.jpg").read_bytes()
        bad.write_bytes(whole[: len(whole) // 2])
    else:
        make(bad)
    before = bad.read_bytes()
    got, _, err = run(
        capsys, "compare", real_a, str(bad), "--model", "mobileface", "--device", "cpu"
    )
    assert got == code, err
    assert message in err.lower() and "evidence.jpg" in err
    assert bad.read_bytes() == before  # evidence is never modified


def test_face_index_out_of_range(capsys, faces_dir, real_a):
    code, _, err = run(
        capsys,
        "compare",
        real_a,
        real_a,
        "--face-b",
        "7",
        "--model",
        "mobileface",
        "--device",
        "cpu",
    )
    assert code == 6 and "out of range" in err


def test_unknown_model(capsys, real_a):
    code, _, err = run(capsys, "compare", real_a, real_a, "--model", "nope", "--device", "cpu")
    assert code == 7 and "unknown model" in err


def test_missing_insightface_pack_is_a_clear_error(capsys, tmp_path, real_a):
    code, _, err = run(
        capsys,
        "compare",
        real_a,
        real_a,
        "--detector",
        "insightface",
        "--detector-pack",
        str(tmp_path / "nowhere"),
        "--device",
        "cpu",
    )
    assert code == 8 and "nowhere" in err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "only-one-argument"])
    assert exc.value.code == 2


@pytest.mark.slow
def test_evaluate_reports_metrics_and_failed_images(capsys, tmp_path, faces_dir):
    ids = faces_dir / "identities"
    rows = [
        ("obama/obama_1.jpg", "obama/obama_2.jpg", "1"),
        ("obama/obama_3.jpg", "obama/obama_4.jpg", "yes"),
        ("biden/biden_1.jpg", "biden/biden_2.jpg", "true"),
        ("obama/obama_1.jpg", "biden/biden_1.jpg", "0"),
        ("obama/obama_2.jpg", "kit_harington/kit_harington_1.jpg", "no"),
        ("biden/biden_2.jpg", "rose_leslie/rose_leslie_1.jpg", "false"),
        ("obama/obama_1.jpg", "missing.jpg", "0"),
    ]
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text("image_a,image_b,same\n" + "\n".join(",".join(r) for r in rows) + "\n")
    out = tmp_path / "eval.json"
    code, stdout, _ = run(
        capsys,
        "evaluate",
        "--pairs",
        str(csv_path),
        "--root",
        str(ids),
        "--model",
        "mobileface",
        "--json",
        str(out),
        "--device",
        "cpu",
    )
    assert code == 0, stdout
    doc = json.loads(out.read_text())
    assert doc["pairs_skipped"] == 1 and len(doc["failed_images"]) == 1
    assert doc["metrics"]["pairs"] == 6 and doc["metrics"]["roc_auc"] >= 0.5
    assert len(doc["per_pair"]) == 6
    assert "ROC AUC" in stdout and "failed" in stdout


def test_models_lists_every_model_with_provenance(capsys):
    code, stdout, _ = run(capsys, "models", "--device", "cpu")
    assert code == 0
    for model_id in ("faceres", "mobileface", "faceres-rrf56", "faceres-rrf28", "mtcnn"):
        assert model_id in stdout
    assert "not a trained RRFNet" in stdout
