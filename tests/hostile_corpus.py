"""Builders for the hostile-input tests: a small valid signed case, and ways to damage it.

The case is synthetic but schema-valid (two tiny "originals" whose SHA-256s the
manifest records, a one-face comparison, the mobileface DEMO calibration and
the evidence computed from it), so opening it needs no engine.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import warnings
import zipfile
from pathlib import Path

from core.case.analyses import CALIBRATION_KEY, add_evidence
from core.case.case_file import MANIFEST, SIGNATURE, save_case
from core.case.case_model import AuditEntry, Case, CaseInput, utc_now
from core.strength_of_evidence.calibration_file import calibration_from_bytes

DEMO = Path(__file__).resolve().parents[1] / "resources" / "calibration" / "mobileface.demo.json"
ORIGINALS = {"A": b"questioned photo bytes", "B": b"reference photo bytes"}


def demo_model() -> dict:
    """The model description the mobileface DEMO calibration was made for."""
    made_for = json.loads(DEMO.read_text(encoding="utf-8"))["model"]
    return {**made_for, "kind": "grid", "source": "test"}


def _side(sha256: str) -> dict:
    return {
        "image": {"sha256": sha256, "name": "x.jpg"},
        "faces": [{"box": [1.0, 2.0, 30.0, 40.0], "score": 0.99}],
        "chosen_face": 0,
    }


def synthetic_case(score: float = 0.62) -> tuple[Case, dict[str, bytes]]:
    """A schema-valid case with a DEMO-calibrated evidence section, and its stored files."""
    shas = {role: hashlib.sha256(data).hexdigest() for role, data in ORIGINALS.items()}
    now = utc_now()
    inputs = tuple(
        CaseInput(
            role, f"{role.lower()}.jpg", len(ORIGINALS[role]), shas[role], "JPEG", 64, 48, {}, (), 0
        )
        for role in ("A", "B")
    )
    model = demo_model()
    comparison = {
        "a": _side(shas["A"]),
        "b": _side(shas["B"]),
        "score": {"cosine": score},
        "decomposition": {
            "pair_matrix": [[score / 2, 0.0], [0.0, score / 2]],
            "bias_terms": {"a": [], "b": [], "bias_bias": 0.0},
        },
        "model": model,
        "detector": {"id": "mtcnn", "weights": {"sha256": "0" * 64}},
    }
    case = Case(
        case_id="HOSTILE-1",
        examiner="Łukasz Żółć",
        agency="Lab",
        notes="",
        hp="same person",
        hd="different people",
        created_utc=now,
        modified_utc=now,
        inputs=inputs,
        settings={
            "model_id": "mobileface",
            "detector_kind": "mtcnn",
            "detector_pack": None,
            "max_pixels": None,
            "threshold": None,
            "calibration": None,
            "explainers": [],
            "runtime": {"threads": 1, "deterministic_algorithms": False, "device": "cpu"},
        },
        provenance={"software": {"app_version": "test"}, "model": model, "detector": {}},
        results={"comparison": comparison, "evidence": None, "explainers": []},
        audit_log=(AuditEntry(now, "case created", "synthetic", "0" * 64),),
    )
    data = DEMO.read_bytes()
    calibration = calibration_from_bytes(data, str(DEMO), model)
    add_evidence(case, calibration, data)
    return case, {**ORIGINALS, CALIBRATION_KEY: data}


def saved_case(folder: Path) -> Path:
    case, files = synthetic_case()
    path = folder / "good.pwcase"
    save_case(case, path, files)
    return path


def members_of(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def write_members(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    """A zip of exactly these members (duplicates included, as an attacker would write)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": intended here
        for info, data in members:
            out.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    return path


def manifest_of(path: Path) -> dict:
    return json.loads(dict((i.filename, d) for i, d in members_of(path))[MANIFEST])


def with_manifest(source: Path, target: Path, edit=None, text: bytes | None = None) -> Path:
    """A copy of `source` whose manifest is `edit(manifest)` or the raw `text`."""
    members = []
    for info, data in members_of(source):
        if info.filename == MANIFEST:
            if text is None:
                manifest = copy.deepcopy(json.loads(data))
                edited = edit(manifest)
                manifest = manifest if edited is None else edited
                text = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
            data = text
        members.append((info, data))
    return write_members(target, members)


def without_signature(source: Path, target: Path) -> Path:
    members = [(i, d) for i, d in members_of(source) if i.filename != SIGNATURE]
    return write_members(target, members)
