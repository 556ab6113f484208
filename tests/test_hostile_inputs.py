"""Hostile inputs (issue 11): every malformed case, calibration, model.json or pairs CSV is
a one-line error with its exit code, never a traceback, a hang or a file written."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
import torch
from hostile_corpus import (
    DEMO,
    demo_model,
    manifest_of,
    members_of,
    saved_case,
    synthetic_case,
    with_manifest,
    without_signature,
    write_members,
)
from trainable_synthetic import TINY_WIDTH, tiny_network

from core.case.analyses import _evidence_check
from core.case.case_file import MANIFEST, SIGNATURE, open_case
from core.errors import CalibrationError, CaseFileError, ModelNotFoundError, UsageError
from core.evaluation import read_pairs_csv
from core.models.checkpoint import META_FILE, WEIGHTS_FILE, load_checkpoint, save_checkpoint
from core.strength_of_evidence.calibration_file import calibration_from_bytes, load_calibration
from core.training.jobs import architecture


@pytest.fixture(scope="module")
def good_case(tmp_path_factory) -> Path:
    return saved_case(tmp_path_factory.mktemp("good"))


def _one_line(exc: BaseException) -> None:
    assert "\n" not in str(exc) and "Traceback" not in str(exc)


# -- cases: the manifest breaks its schema -------------------------------------------------


def _set(path: str, value):
    """An edit that sets manifest[path...] = value (a dotted path; digits index lists)."""

    def edit(manifest):
        keys = path.split(".")
        node = manifest
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        last = keys[-1]
        node[int(last) if last.isdigit() else last] = value

    return edit


def _drop(path: str):
    def edit(manifest):
        keys = path.split(".")
        node = manifest
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[keys[-1]]

    return edit


WRONG_VALUES = [None, [], "text", 7, {"x": 1}]
TYPED_FIELDS = [
    "case_id",
    "examiner",
    "notes",
    "propositions",
    "propositions.hp",
    "inputs",
    "inputs.0",
    "inputs.0.sha256",
    "inputs.0.face_index",
    "settings",
    "settings.threshold",
    "settings.calibration",
    "settings.calibration.stored_as",
    "settings.explainers",
    "results",
    "results.comparison",
    "results.comparison.score.cosine",
    "results.comparison.a.faces",
    "results.evidence",
    "results.evidence.lr",
    "results.evidence.verbal",
    "audit_log",
    "audit_log.0.previous_sha256",
    "audit_head_sha256",
]
STRING_FIELDS = {"case_id", "examiner", "notes", "propositions.hp"}
VALID = [
    ("settings.threshold", None),
    ("results.evidence", None),
    ("settings.calibration", None),
    ("results.evidence.verbal", None),
    ("results.evidence.lr", None),
    ("results.evidence.lr", 7),
    ("inputs.0.face_index", 7),
    ("settings.explainers", []),
]
SCHEMA_BREAKS = [
    (f"{field} = {value!r}", _set(field, value))
    for field in TYPED_FIELDS
    for value in WRONG_VALUES
    if (field, value) not in VALID and not (field in STRING_FIELDS and value == "text")
] + [
    ("case id 1 MB", _set("case_id", "x" * 1_000_000)),
    ("note 5 MB", _set("notes", "n" * 5_000_000)),
    ("hp 100 kB", _set("propositions.hp", "h" * 100_000)),
    ("extra input", lambda m: m["inputs"].append(dict(m["inputs"][0]))),
    ("inputs swapped", lambda m: m["inputs"].reverse()),
    ("missing evidence section", _drop("results.evidence")),
    ("unknown top-level field", _set("pwned", True)),
    ("unknown schema", _set("schema", "patchwise.case/99")),
    ("calibration stored as absolute path", _set("settings.calibration.stored_as", "/tmp/x.sh")),
    ("calibration stored as ../", _set("settings.calibration.stored_as", "calibration/../../x")),
    ("input stored as ..", _set("inputs.0.stored_as", "originals/A/..")),
    ("threshold above 1", _set("settings.threshold", 1.5)),
    ("cosine above 1", _set("results.comparison.score.cosine", 3.2)),
    ("lr negative", _set("results.evidence.lr", -5.0)),
    ("decision unknown", _set("results.evidence.decision", "maybe")),
    ("verbal supports nobody", _set("results.evidence.verbal.supports", "jury")),
    ("chosen face out of range", _set("results.comparison.a.chosen_face", 5)),
    ("box of three numbers", _set("results.comparison.a.faces.0.box", [1.0, 2.0, 3.0])),
    ("created time not a time", _set("created_utc", "yesterday")),
    ("empty audit log", _set("audit_log", [])),
    ("20k audit entries (limit 10k)", lambda m: m.update(audit_log=m["audit_log"] * 20_000)),
    ("examiner as bytes list", _set("examiner", [0x41, 0x42])),
    ("face index negative", _set("inputs.0.face_index", -1)),
    ("face index bool", _set("inputs.0.face_index", True)),
    ("width as float", _set("inputs.0.width", 64.0)),
    ("threads zero", _set("settings.runtime.threads", 0)),
    ("manifest is a list", lambda m: [m]),
    ("manifest is null", lambda m: "null-marker"),
]


@pytest.mark.parametrize("label,edit", SCHEMA_BREAKS, ids=[label for label, _ in SCHEMA_BREAKS])
def test_a_manifest_breaking_its_schema_is_one_clear_error(good_case, tmp_path, label, edit):
    bad = with_manifest(good_case, tmp_path / "bad.pwcase", edit)
    if label == "manifest is null":
        bad = with_manifest(good_case, tmp_path / "bad.pwcase", text=b"null")
    with pytest.raises(CaseFileError) as caught:
        open_case(bad)
    _one_line(caught.value)


RAW_MANIFESTS = [
    ("NaN cosine", lambda t: t.replace(b'"cosine": 0.62', b'"cosine": NaN', 1)),
    ("inf cosine", lambda t: t.replace(b'"cosine": 0.62', b'"cosine": Infinity', 1)),
    ("1e999 cosine", lambda t: t.replace(b'"cosine": 0.62', b'"cosine": 1e999', 1)),
    ("-inf bias", lambda t: t.replace(b'"bias_bias": 0.0', b'"bias_bias": -Infinity', 1)),
    ("NaN box", lambda t: t.replace(b"[1.0, 2.0, 30.0, 40.0]", b"[NaN, 2.0, 30.0, 40.0]", 1)),
    ("duplicate key", lambda t: t.replace(b'{"schema"', b'{"case_id": "X", "schema"', 1)),
    ("latin-1", lambda t: t.replace("Żółć".encode(), "Zolc\xe9".encode("latin-1"), 1)),
    ("truncated", lambda t: t[: len(t) // 2]),
    ("empty", lambda t: b""),
    ("binary", lambda t: bytes(range(256)) * 4),
    ("deep nesting", lambda t: b"[" * 100_000 + b"]" * 100_000),
    ("deep object", lambda t: b'{"a":' * 5_000 + b"1" + b"}" * 5_000),
    ("huge integer", lambda t: t.replace(b'"face_index": 0', b'"face_index": ' + b"9" * 5000, 1)),
]


@pytest.mark.parametrize("label,mangle", RAW_MANIFESTS, ids=[x for x, _ in RAW_MANIFESTS])
def test_malformed_manifest_text_is_one_clear_error(good_case, tmp_path, label, mangle):
    text = dict((i.filename, d) for i, d in members_of(good_case))[MANIFEST]
    text = json.dumps(json.loads(text), ensure_ascii=False).encode("utf-8")
    bad = with_manifest(good_case, tmp_path / "bad.pwcase", text=mangle(text))
    with pytest.raises(CaseFileError) as caught:
        open_case(bad)
    _one_line(caught.value)


# -- cases: valid content changed after signing ----------------------------------------------

SIGNED_EDITS = [
    ("case id", _set("case_id", "OTHER-2")),
    ("examiner", _set("examiner", "Somebody Else")),
    ("agency", _set("agency", "Elsewhere")),
    (
        "hp and hd swapped",
        lambda m: m.update(propositions={"hp": "different people", "hd": "same person"}),
    ),
    ("created time", _set("created_utc", "2020-01-01T00:00:00.000000Z")),
    ("calibration status", _set("settings.calibration.status", "lab calibration: forged")),
    ("stored LR", _set("results.evidence.lr", 3.2e9)),
    ("verbal statement", _set("results.evidence.verbal.statement", "EXTREMELY STRONG support")),
    ("decision", _set("results.evidence.decision", "different")),
    ("threshold", _set("results.evidence.threshold.cosine", -1.0)),
    ("cosine", _set("results.comparison.score.cosine", 0.99)),
    ("pair term", _set("results.comparison.decomposition.pair_matrix.0.0", 0.9)),
    ("notes", _set("notes", "added later")),
    ("model id", _set("settings.model_id", "faceres")),
    ("thread count", _set("settings.runtime.threads", 8)),
    ("last audit entry deleted", lambda m: m.update(audit_log=m["audit_log"][:-1])),
    ("only the first audit entry", lambda m: m.update(audit_log=m["audit_log"][:1])),
]


@pytest.mark.parametrize("label,edit", SIGNED_EDITS, ids=[x for x, _ in SIGNED_EDITS])
def test_any_change_after_signing_reads_modified_after_signing(good_case, tmp_path, label, edit):
    bad = with_manifest(good_case, tmp_path / "edited.pwcase", edit)
    _, _, verification = open_case(bad)
    assert not verification.ok and not verification.signed
    assert verification.signature.status == "modified after signing"
    assert any("modified after signing" in p for p in verification.problems)
    with pytest.raises(CaseFileError):
        verification.raise_if_failed(bad)


def test_saving_returns_the_signature_it_made(tmp_path):
    from core.case.case_file import save_case

    case, files = synthetic_case()
    signature = save_case(case, tmp_path / "s.pwcase", files)
    assert signature.verified and signature == open_case(tmp_path / "s.pwcase")[2].signature


def test_the_untouched_case_verifies_and_says_who_signed_when(good_case):
    _, _, verification = open_case(good_case)
    assert verification.ok and verification.signed, verification.problems
    line = verification.signature_line()
    assert line.startswith("Signature: signed: ") and " at 20" in line


def test_a_re_signed_case_is_signed_by_an_untrusted_key(good_case, tmp_path, monkeypatch):
    from core.case.case_file import open_case as reopen
    from core.case.case_file import save_case

    case, files, _ = open_case(good_case)
    case.examiner = "Forger"
    monkeypatch.setenv("PATCHWISE_KEY_DIR", str(tmp_path / "forger-keys"))
    save_case(case, tmp_path / "forged.pwcase", files)
    monkeypatch.setenv("PATCHWISE_KEY_DIR", os.environ["PATCHWISE_KEY_DIR_ORIGINAL"])
    _, _, verification = reopen(tmp_path / "forged.pwcase")
    assert verification.ok and not verification.signed
    assert verification.signature.status == "signed by an untrusted key"


@pytest.fixture(autouse=True)
def _remember_key_dir(monkeypatch):
    monkeypatch.setenv("PATCHWISE_KEY_DIR_ORIGINAL", os.environ["PATCHWISE_KEY_DIR"])


def test_a_removed_signature_reads_unsigned(good_case, tmp_path):
    _, _, verification = open_case(without_signature(good_case, tmp_path / "u.pwcase"))
    assert verification.ok and not verification.signed
    assert verification.signature.status == "unsigned"


@pytest.mark.parametrize(
    "record",
    [b"{}", b"[]", b"null", b"not json", b'{"schema": "patchwise.signature/1"}', b"\xff\xfe"],
)
def test_a_damaged_signature_record_reads_modified(good_case, tmp_path, record):
    members = [
        (info, record if info.filename == SIGNATURE else data)
        for info, data in members_of(good_case)
    ]
    _, _, verification = open_case(write_members(tmp_path / "s.pwcase", members))
    assert verification.signature.status == "modified after signing"
    assert not verification.ok


def test_a_rewritten_audit_chain_misses_the_signed_head(good_case, tmp_path):
    from core.case.case_model import AuditEntry

    def rewrite(manifest):
        entry = AuditEntry("2020-01-01T00:00:00.000000Z", "case created", "forged", "0" * 64)
        manifest["audit_log"] = [entry.to_json()]

    _, _, verification = open_case(with_manifest(good_case, tmp_path / "a.pwcase", rewrite))
    assert any("audit log ends at" in p for p in verification.problems)


# -- cases: the zip breaks the member rules ----------------------------------------------------


def _zip_variants(good: Path, folder: Path) -> list[tuple[str, Path]]:
    members = members_of(good)
    manifest_info, manifest = next((i, d) for i, d in members if i.filename == MANIFEST)

    def variant(name: str, extra) -> tuple[str, Path]:
        return name, write_members(folder / f"{len(name)}-{abs(hash(name))}.pwcase", extra)

    symlink = zipfile.ZipInfo("originals/A/link")
    symlink.create_system = 3
    symlink.external_attr = 0o120777 << 16
    lzma = zipfile.ZipInfo("originals/A/x.jpg")
    lzma.compress_type = zipfile.ZIP_LZMA
    bzip = zipfile.ZipInfo("originals/A/x.jpg")
    bzip.compress_type = zipfile.ZIP_BZIP2
    bomb = zipfile.ZipInfo("originals/A/bomb.jpg")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    return [
        variant("duplicate manifest", [*members, (manifest_info, manifest)]),
        variant("absolute member", [*members, ("/etc/x", b"x")]),
        variant("dot-dot member", [*members, ("originals/A/../../x", b"x")]),
        variant("backslash member", [*members, ("originals\\A\\x", b"x")]),
        variant("unexpected member", [*members, ("evil.sh", b"x")]),
        variant("symlink member", [*members, (symlink, b"/etc/passwd")]),
        variant("lzma member", [*members, (lzma, b"x" * 100)]),
        variant("bzip2 member", [*members, (bzip, b"x" * 100)]),
        variant("zip bomb", [*members, (bomb, b"\0" * (20 << 20))]),
        variant("no manifest", [m for m in members if m[0].filename != MANIFEST]),
        variant("directory member", [*members, ("originals/A/", b"")]),
    ]


def test_zip_member_rules_are_enforced(good_case, tmp_path):
    variants = _zip_variants(good_case, tmp_path)
    for label, path in variants:
        with pytest.raises(CaseFileError) as caught:
            open_case(path)
        _one_line(caught.value)
        assert str(path) in str(caught.value), label


def test_an_encrypted_member_is_refused(good_case, tmp_path):
    path = write_members(tmp_path / "e.pwcase", members_of(good_case))
    raw = bytearray(path.read_bytes())
    # Set the "encrypted" flag bit of every central-directory record (PK\1\2, flags at +8).
    start = 0
    while (start := raw.find(b"PK\x01\x02", start)) >= 0:
        raw[start + 8] |= 0x1
        start += 4
    path.write_bytes(bytes(raw))
    with pytest.raises(CaseFileError, match="encrypted"):
        open_case(path)


def _not_a_regular_file(path: Path, kind: str) -> Path | None:
    """`path` made a folder or a FIFO, or /dev/zero, for those kinds; else None."""
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        return Path("/dev/zero")
    else:
        return None
    return path


@pytest.mark.parametrize("kind", ["directory", "fifo", "dev-zero", "empty", "truncated", "text"])
def test_not_a_case_file_is_refused_without_reading_forever(good_case, tmp_path, kind):
    contents = {"empty": b"", "truncated": good_case.read_bytes()[:-200], "text": b"hello"}
    path = _not_a_regular_file(tmp_path / "x.pwcase", kind) or tmp_path / "x.pwcase"
    if kind in contents:
        path.write_bytes(contents[kind])
    with pytest.raises(CaseFileError) as caught:
        open_case(path)
    _one_line(caught.value)


def test_opening_hostile_cases_writes_no_file(good_case, tmp_path, monkeypatch):
    """Names taken from a manifest are never used to write (the old re-run and stored
    calibration did). Opening, and checking the evidence from the stored calibration,
    leave every folder as it was."""
    import tempfile

    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    target = tmp_path / "escape" / "x.sh"

    def named(manifest):
        manifest["settings"]["calibration"]["file"] = str(target)
        manifest["inputs"][0]["name"] = "../../escape/y.jpg"

    cases = [with_manifest(good_case, tmp_path / f"n{i}.pwcase", named) for i in range(2)]
    (tmp_path / "zips").mkdir()
    cases += [path for _, path in _zip_variants(good_case, tmp_path / "zips")]
    before = sorted(p for p in tmp_path.rglob("*"))
    for path in cases:
        try:
            case, files, _ = open_case(path)
            _evidence_check(case, case.results["evidence"], case.score, files)
        except CaseFileError:
            pass
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not target.exists() and not any(private_tmp.iterdir())


def test_forged_evidence_is_caught_by_the_rerun_check():
    """Re-signed by a forger or not, the evidence must follow from the stored score."""
    case, files = synthetic_case()
    assert _evidence_check(case, case.results["evidence"], case.score, files) == []
    for field, value in [
        ("lr", 3.2e9),
        ("log10_lr", 9.5),
        ("decision", "different" if case.results["evidence"]["decision"] == "same" else "same"),
        ("calibration_status", "lab calibration: forged"),
    ]:
        forged = {**case.results["evidence"], field: value}
        problems = _evidence_check(case, forged, case.score, files)
        assert any(field in p for p in problems), field
    verbal = {**case.results["evidence"]["verbal"], "statement": "EXTREMELY STRONG support"}
    forged = {**case.results["evidence"], "verbal": verbal}
    assert _evidence_check(case, forged, case.score, files)
    assert _evidence_check(case, case.results["evidence"], float("nan"), files)


# -- calibrations ------------------------------------------------------------------------------


def _demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


CALIBRATION_BREAKS = [
    (f"{field} = {value!r}", _set(field, value))
    for field in [
        "name",
        "kind",
        "model",
        "model.weights_sha256",
        "threshold",
        "threshold.cosine",
        "calibrator",
        "calibrator.kind",
        "elub",
        "elub.lower_log10",
        "scores",
        "scores.genuine",
        "curve",
        "curve.log10_lr",
        "counts.genuine",
        "cscore",
    ]
    for value in [None, "text", [1, 2], {"x": 1}]
    if not (field == "name" and value == "text")
] + [
    (
        "reversed ELUB bounds",
        _set("elub", {"lower_log10": 2.0, "upper_log10": -2.0, "method": "x"}),
    ),
    ("threshold -1.5", _set("threshold.cosine", -1.5)),
    ("threshold 2", _set("threshold.cosine", 2.0)),
    ("kind demo to lab", _set("kind", "lab")),
    ("non-monotone curve", lambda d: d["curve"]["log10_lr"].reverse()),
    ("score above 1", lambda d: d["scores"]["genuine"].__setitem__(0, 7.0)),
    ("unknown calibrator", _set("calibrator.kind", "pickle")),
    ("empty genuine scores", lambda d: d["scores"].update(genuine=[])),
    ("edited scores", lambda d: d["scores"]["genuine"].__setitem__(0, -0.99)),
    ("wrong model weights", _set("model.weights_sha256", "f" * 64)),
]


@pytest.mark.parametrize("label,edit", CALIBRATION_BREAKS, ids=[x for x, _ in CALIBRATION_BREAKS])
def test_a_broken_calibration_is_one_clear_error(label, edit):
    data = _demo()
    edit(data)
    with pytest.raises(CalibrationError) as caught:
        calibration_from_bytes(json.dumps(data).encode(), "cal.json", demo_model())
    _one_line(caught.value)


RAW_CALIBRATIONS = [
    ("inf ELUB", lambda t: t.replace('"upper_log10": ', '"upper_log10": Infinity, "x":', 1)),
    ("NaN ELUB", lambda t: t.replace('"lower_log10": ', '"lower_log10": NaN, "y":', 1)),
    ("NaN threshold", lambda t: t.replace('"cosine": ', '"cosine": NaN, "z": ', 1)),
    ("duplicate key", lambda t: t.replace("{", '{"name": "a", ', 1)),
    ("not an object", lambda t: "[1, 2, 3]"),
    ("truncated", lambda t: t[: len(t) // 3]),
    ("deep nesting", lambda t: "[" * 50_000 + "]" * 50_000),
]


@pytest.mark.parametrize("label,mangle", RAW_CALIBRATIONS, ids=[x for x, _ in RAW_CALIBRATIONS])
def test_malformed_calibration_text_is_one_clear_error(label, mangle):
    text = mangle(DEMO.read_text(encoding="utf-8"))
    with pytest.raises(CalibrationError) as caught:
        calibration_from_bytes(text.encode("utf-8"), "cal.json", demo_model())
    _one_line(caught.value)


@pytest.mark.parametrize("kind", ["directory", "fifo", "dev-zero", "latin-1"])
def test_a_calibration_path_that_is_no_calibration_file(tmp_path, kind):
    path = _not_a_regular_file(tmp_path / "cal.json", kind) or tmp_path / "cal.json"
    if kind == "latin-1":
        path.write_bytes('{"name": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(CalibrationError) as caught:
        load_calibration(path, demo_model())
    _one_line(caught.value)


def _lab_calibration(tmp_path) -> Path:
    from core.strength_of_evidence.calibration_file import write_calibration

    data = _demo()
    data.update(
        kind="lab", label="lab calibration", status="lab calibration: test-lab", name="test-lab"
    )
    path = tmp_path / "lab.json"
    write_calibration(path, data)
    return path


def test_a_lab_calibration_is_signed_and_edits_after_signing_are_refused(tmp_path):
    path = _lab_calibration(tmp_path)
    calibration = load_calibration(path, demo_model())
    assert calibration.signature.verified and calibration.status == "lab calibration: test-lab"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["elub"]["upper_log10"] = 9.0
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CalibrationError, match="modified after signing"):
        load_calibration(path, demo_model())


def test_verify_a_calibration_from_the_cli(tmp_path, monkeypatch):
    from core.cli.entry import main

    path = _lab_calibration(tmp_path)
    assert main(["verify", str(path)]) == 0
    assert main(["verify", str(DEMO)]) == 0  # DEMO: unsigned by design, says DEMO
    monkeypatch.setenv("PATCHWISE_KEY_DIR", str(tmp_path / "elsewhere"))
    assert main(["verify", str(path)]) == 10


def test_an_unsigned_lab_calibration_says_unverified(tmp_path):
    data = json.loads(_lab_calibration(tmp_path).read_text(encoding="utf-8"))
    del data["signature"]
    calibration = calibration_from_bytes(json.dumps(data).encode(), "x.json", demo_model())
    assert calibration.status.startswith("UNVERIFIED (unsigned)")


# -- model.json and weights ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "m"
    meta = {
        "name": "m",
        "architecture": architecture("rrfnet56", "r18", TINY_WIDTH),
        "embedding_size": 512,
        "training": {"method": "identity", "steps_done": 0, "data": {"images": 0}},
    }
    save_checkpoint(path, tiny_network("rrfnet56", 0), meta)
    return path


def _copy_checkpoint(source: Path, target: Path, meta_edit=None, tensors=None) -> Path:
    from safetensors.torch import save as save_bytes

    target.mkdir()
    meta = json.loads((source / META_FILE).read_text())
    weights = (source / WEIGHTS_FILE).read_bytes()
    if tensors is not None:
        weights = save_bytes(tensors)
        meta["weights_sha256"] = hashlib.sha256(weights).hexdigest()
    if meta_edit is not None:
        meta_edit(meta)
    (target / WEIGHTS_FILE).write_bytes(weights)
    (target / META_FILE).write_text(json.dumps(meta))
    return target


META_BREAKS = [
    ("width 4096", _set("architecture.backbone.width", 4096)),
    ("embedding 10^6", _set("architecture.backbone.embedding_size", 1_000_000)),
    ("rrfnet56 with input 112", _set("architecture.backbone.input_size", 112)),
    ("xcos with input 56", _set("architecture.arch", "xcos")),
    ("depth r999", _set("architecture.backbone.depth", "r999")),
    ("dropout 1.5", _set("architecture.backbone.dropout", 1.5)),
    ("width as text", _set("architecture.backbone.width", "64")),
    ("architecture null", _set("architecture", None)),
    ("backbone list", _set("architecture.backbone", [1, 2])),
    ("sha not hex", _set("weights_sha256", "zz")),
    ("weights file elsewhere", _set("weights_file", "../x.safetensors")),
    ("schema wrong", _set("schema", "patchwise.checkpoint/9")),
    ("arch unknown", _set("architecture.arch", "resnet")),
    ("training is text", _set("training", "x")),
]


@pytest.mark.parametrize("label,edit", META_BREAKS, ids=[x for x, _ in META_BREAKS])
def test_a_broken_model_json_is_one_clear_error(checkpoint, tmp_path, label, edit):
    bad = _copy_checkpoint(checkpoint, tmp_path / "bad", meta_edit=edit)
    with pytest.raises(ModelNotFoundError) as caught:
        load_checkpoint(bad)
    _one_line(caught.value)


def _weights(checkpoint: Path, change) -> dict:
    from safetensors.torch import load as load_bytes

    tensors = load_bytes((checkpoint / WEIGHTS_FILE).read_bytes())
    return {name: change(name, t) for name, t in tensors.items()}


WEIGHT_BREAKS = [
    ("NaN weights", lambda n, t: t.fill_(float("nan")) if t.is_floating_point() else t, "NaN"),
    ("inf weights", lambda n, t: t.fill_(float("inf")) if t.is_floating_point() else t, "NaN"),
    ("integer weights", lambda n, t: t.to(torch.int32), "torch.int32"),
    ("all-zero weights", lambda n, t: torch.zeros_like(t), "all zero"),
]


@pytest.mark.parametrize("label,change,match", WEIGHT_BREAKS, ids=[x[0] for x in WEIGHT_BREAKS])
def test_bad_weight_values_are_refused_before_the_network_is_built(
    checkpoint, tmp_path, monkeypatch, label, change, match
):
    import core.models.checkpoint as module

    bad = _copy_checkpoint(checkpoint, tmp_path / "bad", tensors=_weights(checkpoint, change))
    built = []
    monkeypatch.setattr(module, "build_network", lambda arch: built.append(arch))
    with pytest.raises(ModelNotFoundError, match=match):
        load_checkpoint(bad)
    assert built == []


def test_a_wrong_sha_is_refused_before_the_network_is_built(checkpoint, tmp_path, monkeypatch):
    import core.models.checkpoint as module

    bad = _copy_checkpoint(checkpoint, tmp_path / "bad", meta_edit=_set("weights_sha256", "a" * 64))
    monkeypatch.setattr(module, "build_network", lambda arch: pytest.fail("built"))
    with pytest.raises(ModelNotFoundError, match="SHA-256"):
        load_checkpoint(bad)


# -- pairs CSVs ---------------------------------------------------------------------------------

CSV_BREAKS = [
    ("binary", bytes(range(256)) * 8),
    ("latin-1", "image_a,image_b,same\ncaf\xe9.jpg,b.jpg,1\n".encode("latin-1")),
    ("field over 128 kB", b"image_a,image_b,same\n" + b"a" * 200_000 + b",b.jpg,1\n"),
    ("short row", b"image_a,image_b,same\na.jpg,b.jpg\n"),
    ("long row", b"image_a,image_b,same\na.jpg,b.jpg,1,extra\n"),
    ("unterminated quote", b'image_a,image_b,same\n"a.jpg,b.jpg,1\n'),
    ("bad label", b"image_a,image_b,same\na.jpg,b.jpg,perhaps\n"),
    ("missing column", b"image_a,same\na.jpg,1\n"),
    ("empty path", b"image_a,image_b,same\n ,b.jpg,1\n"),
    ("no rows", b"image_a,image_b,same\n"),
    ("empty file", b""),
    ("NUL byte", b"image_a,image_b,same\na\x00.jpg,b.jpg,1\n"),
]


@pytest.mark.parametrize("label,content", CSV_BREAKS, ids=[x for x, _ in CSV_BREAKS])
def test_a_malformed_pairs_csv_is_one_clear_error(tmp_path, label, content):
    path = tmp_path / "pairs.csv"
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        read_pairs_csv(str(path))
    _one_line(caught.value)


def test_a_pairs_csv_that_is_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pairs.csv")
    with pytest.raises(UsageError, match="not a regular file"):
        read_pairs_csv(str(tmp_path / "pairs.csv"))


def test_the_corpus_has_at_least_150_variants():
    total = (
        len(SCHEMA_BREAKS)
        + len(RAW_MANIFESTS)
        + len(SIGNED_EDITS)
        + 11  # zip variants
        + len(CALIBRATION_BREAKS)
        + len(RAW_CALIBRATIONS)
        + len(META_BREAKS)
        + len(WEIGHT_BREAKS)
        + len(CSV_BREAKS)
    )
    assert total >= 150, total


def test_case_manifest_cli_exit_codes(good_case, tmp_path, capsys):
    """verify: 0 for the untouched case, 9 for an edited or unsigned one; report refuses both."""
    from core.cli.entry import main

    assert main(["verify", str(good_case)]) == 0
    assert "Signature: signed:" in capsys.readouterr().out
    edited = with_manifest(good_case, tmp_path / "e.pwcase", _set("examiner", "X"))
    assert main(["verify", str(edited)]) == 9
    unsigned = without_signature(good_case, tmp_path / "u.pwcase")
    assert main(["verify", str(unsigned)]) == 9
    for path in (edited, unsigned):
        assert main(["report", "--case", str(path), "--out", str(tmp_path / "r.pdf")]) == 9
    err = capsys.readouterr().err
    assert "modified after signing" in err and "--allow-unsigned" in err
    assert not (tmp_path / "r.pdf").exists()
    assert manifest_of(good_case)["audit_head_sha256"]


def test_keys_trust_and_import_a_lab_key(good_case, tmp_path, monkeypatch, capsys):
    """A case signed on another installation verifies once its public key is trusted;
    a lab-issued key (PKCS#8 PEM, optionally with a passphrase) can replace the own one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from core.cli.entry import main

    exported = tmp_path / "examiner.pem"
    assert main(["keys", "export-public", str(exported)]) == 0
    monkeypatch.setenv("PATCHWISE_KEY_DIR", str(tmp_path / "other-installation"))
    assert open_case(good_case)[2].signature.status == "signed by an untrusted key"
    assert main(["keys", "trust", str(exported)]) == 0
    assert open_case(good_case)[2].signed
    lab = tmp_path / "lab.pem"
    lab.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    monkeypatch.setenv("PATCHWISE_KEY_PASSPHRASE", "secret")
    assert main(["keys", "import-private", str(lab), "--name", "Forensic Lab A"]) == 0
    assert "signer: Forensic Lab A" in capsys.readouterr().out
    monkeypatch.setenv("PATCHWISE_KEY_PASSPHRASE", "wrong")
    assert main(["keys", "show"]) == 2


def test_bundled_style_weights_with_nan_are_refused(tmp_path):
    from safetensors.torch import save_file
    from torch import nn

    from core.models.safetensors_loading import load_module_weights

    module = nn.Linear(3, 2)
    save_file({"weight": torch.full((2, 3), float("nan")), "bias": torch.zeros(2)}, tmp_path / "w")
    with pytest.raises(ModelNotFoundError, match="NaN or inf values"):
        load_module_weights(module, tmp_path / "w", "test model")


def test_edited_case_details_are_bounded_before_they_reach_a_case():
    from core.case.workflow import CaseDetails

    with pytest.raises(UsageError, match="notes must be text of at most 20,000"):
        CaseDetails.from_mapping({"notes": "n" * 30_000})
    with pytest.raises(UsageError, match="examiner"):
        CaseDetails.from_mapping({"examiner": "e" * 300})
    assert CaseDetails.from_mapping({"hp": " same "}).hp == "same"


def test_an_unverified_lab_calibration_is_a_warning_of_the_report():
    from types import SimpleNamespace

    from core.report.sections import warnings_for

    case, _ = synthetic_case()
    case.settings["calibration"] = {
        **case.settings["calibration"],
        "demo": False,
        "status": "UNVERIFIED (unsigned) lab calibration: lab-1",
    }
    ctx = SimpleNamespace(
        verification=None,
        rerun=None,
        case=case,
        score_kind="cosine",
        calibration=case.settings["calibration"],
    )
    assert any(w.startswith("CALIBRATION NOT VERIFIED") for w in warnings_for(ctx))


def test_a_case_saved_before_signing_opens_unsigned_and_unanchored(good_case, tmp_path):
    def as_version_1(manifest):
        manifest["schema"] = "patchwise.case/1"
        del manifest["audit_head_sha256"], manifest["settings"]["runtime"]

    old = without_signature(
        with_manifest(good_case, tmp_path / "v1-signed.pwcase", as_version_1),
        tmp_path / "v1.pwcase",
    )
    _, _, verification = open_case(old)
    assert verification.ok and verification.signature.status == "unsigned"
    assert any("NOT anchored" in line for line in verification.checked)
