"""The case: who, what, with which software and settings, what came out, and an audit log.

A `Case` is plain data that serialises to JSON (schema `patchwise.case/1`,
docs/reports.md). It never holds pixels or photo bytes: the original files
travel beside it in the `.pwcase` archive (core/case/case_file.py), tied to
it by their SHA-256.

The audit log is append-only: `Case.log` is the only way to add an entry,
and each entry carries the SHA-256 of the entry before it, so an entry
edited or removed in the manifest breaks the chain and `audit_chain_problems`
says where. (This detects careless or naive edits; someone who rewrites the
whole chain can forge it. The hashes of the originals are the real anchor.)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from core.case.environment import software_environment
from core.errors import UsageError

CASE_SCHEMA = "patchwise.case/1"
ROLES = ("A", "B")
ROLE_TITLES = {"A": "A (questioned)", "B": "B (reference)"}
DEFAULT_HP = "The face in image A and the face in image B show the same person."
DEFAULT_HD = "The face in image A and the face in image B show different people."
GENESIS = "0" * 64
_MAX_ID_LENGTH = 100
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _plain(value):
    """The value as JSON would give it back (tuples become lists), so round trips are equal."""
    return json.loads(json.dumps(value))


def utc_now() -> str:
    """The current UTC time as ISO 8601 with microseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def default_case_id(now: str) -> str:
    """PW-YYYYMMDD-HHMMSS from a utc_now() string."""
    return "PW-" + now[:19].replace("-", "").replace(":", "").replace("T", "-")


def check_case_id(case_id: str) -> str:
    """A case id must be 1-100 printable characters without path separators."""
    text = str(case_id).strip()
    if not text or len(text) > _MAX_ID_LENGTH or not text.isprintable() or "/" in text:
        raise UsageError(
            f"case id {case_id!r} is not valid: use 1-{_MAX_ID_LENGTH} printable "
            "characters without '/'"
        )
    return text


@dataclass(frozen=True)
class CaseInput:
    """One original photo: what it is, its hash, and which face in it was compared."""

    role: str  # "A" (questioned) or "B" (reference)
    name: str
    size_bytes: int
    sha256: str
    format: str
    width: int
    height: int
    exif_summary: dict
    conversions: tuple[str, ...]
    face_index: int

    @property
    def archive_path(self) -> str:
        """Where the byte-identical copy lives inside the .pwcase zip."""
        safe = _SAFE_NAME.sub("_", self.name.replace("\\", "/").rsplit("/", 1)[-1]) or "image"
        return f"originals/{self.role}/{safe}"

    @classmethod
    def from_side(cls, role: str, side) -> CaseInput:
        """From a core.engine.FaceSide."""
        ev = side.prepared.evidence
        return cls(
            role=role,
            name=ev.name,
            size_bytes=ev.size_bytes,
            sha256=ev.sha256,
            format=ev.format,
            width=ev.width,
            height=ev.height,
            exif_summary=dict(ev.exif_summary),
            conversions=tuple(ev.conversions),
            face_index=side.index,
        )

    def to_json(self) -> dict:
        return {
            "role": self.role,
            "name": self.name,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "exif_summary": dict(self.exif_summary),
            "conversions": list(self.conversions),
            "face_index": self.face_index,
            "stored_as": self.archive_path,
        }

    @classmethod
    def from_json(cls, data: dict) -> CaseInput:
        return cls(
            role=data["role"],
            name=data["name"],
            size_bytes=int(data["size_bytes"]),
            sha256=data["sha256"],
            format=data["format"],
            width=int(data["width"]),
            height=int(data["height"]),
            exif_summary=dict(data.get("exif_summary", {})),
            conversions=tuple(data.get("conversions", ())),
            face_index=int(data["face_index"]),
        )


@dataclass(frozen=True)
class AuditEntry:
    """One logged action; `previous_sha256` chains it to the entry before."""

    time_utc: str
    action: str
    detail: str
    previous_sha256: str

    def to_json(self) -> dict:
        return {
            "time_utc": self.time_utc,
            "action": self.action,
            "detail": self.detail,
            "previous_sha256": self.previous_sha256,
        }

    def digest(self) -> str:
        canonical = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @classmethod
    def from_json(cls, data: dict) -> AuditEntry:
        return cls(data["time_utc"], data["action"], data["detail"], data["previous_sha256"])


@dataclass
class Case:
    """Everything a case records. Build one with `Case.from_comparison`."""

    case_id: str
    examiner: str
    agency: str
    notes: str
    hp: str
    hd: str
    created_utc: str
    modified_utc: str
    inputs: tuple[CaseInput, ...]
    settings: dict  # model_id, detector, max_pixels, threshold, calibration, explainers
    provenance: dict  # software environment, model and detector descriptions
    results: dict  # comparison (engine JSON), evidence (or None), explainers (list)
    audit_log: tuple[AuditEntry, ...] = field(default=())

    @classmethod
    def from_comparison(
        cls,
        comparison,
        *,
        case_id: str | None = None,
        examiner: str = "",
        agency: str = "",
        notes: str = "",
        hp: str = DEFAULT_HP,
        hd: str = DEFAULT_HD,
        detector_kind: str | None = None,
        detector_pack: str | None = None,
        max_pixels: int | None = None,
        threshold: float | None = None,
    ) -> Case:
        """A new case holding a core.engine.Comparison, with a "case created" log entry.

        `detector_kind` is what make_detector needs to rebuild the detector for a
        re-run; by default the kind the detector describes itself as.
        """
        now = utc_now()
        case = cls(
            case_id=check_case_id(case_id or default_case_id(now)),
            examiner=examiner,
            agency=agency,
            notes=notes,
            hp=hp,
            hd=hd,
            created_utc=now,
            modified_utc=now,
            inputs=(CaseInput.from_side("A", comparison.a), CaseInput.from_side("B", comparison.b)),
            settings=_plain(
                {
                    "model_id": comparison.model["id"],
                    "detector_kind": detector_kind or comparison.detector.get("kind", "mtcnn"),
                    "detector_pack": detector_pack,
                    "max_pixels": max_pixels,
                    "threshold": threshold,
                    "calibration": None,
                    "explainers": [],
                }
            ),
            provenance=_plain(
                {
                    "software": software_environment(comparison.device),
                    "model": comparison.model.to_json(),
                    "detector": comparison.detector.to_json(),
                }
            ),
            results=_plain(
                {"comparison": comparison.to_json(), "evidence": None, "explainers": []}
            ),
        )
        case.log(
            "case created",
            f"compared {comparison.a.prepared.evidence.name} (face {comparison.a.index}) with "
            f"{comparison.b.prepared.evidence.name} (face {comparison.b.index}) using model "
            f"{comparison.model['id']}: cosine {comparison.cosine:+.6f}",
        )
        return case

    # -- the audit log -------------------------------------------------------

    def log(self, action: str, detail: str = "") -> AuditEntry:
        """Append one entry (UTC time, chained to the last) and update modified_utc."""
        previous = self.audit_log[-1].digest() if self.audit_log else GENESIS
        entry = AuditEntry(utc_now(), action, detail, previous)
        self.audit_log = (*self.audit_log, entry)
        self.modified_utc = entry.time_utc
        return entry

    def audit_chain_problems(self) -> list[str]:
        """Where the hash chain of the audit log is broken (empty when intact)."""
        problems = []
        previous = GENESIS
        for number, entry in enumerate(self.audit_log, start=1):
            if entry.previous_sha256 != previous:
                problems.append(
                    f"audit log entry {number} ({entry.action!r}) does not follow entry "
                    f"{number - 1}: the log was edited or entries were removed"
                )
            previous = entry.digest()
        return problems

    # -- convenient views ----------------------------------------------------

    @property
    def comparison_json(self) -> dict:
        return self.results["comparison"]

    @property
    def score(self) -> float:
        return float(self.results["comparison"]["score"]["cosine"])

    def input(self, role: str) -> CaseInput:
        return next(i for i in self.inputs if i.role == role)

    def with_results(self, **results) -> Case:
        """A copy with some result sections replaced (evidence=..., explainers=...)."""
        return replace(self, results=_plain({**self.results, **results}))

    # -- JSON ------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "schema": CASE_SCHEMA,
            "case_id": self.case_id,
            "examiner": self.examiner,
            "agency": self.agency,
            "notes": self.notes,
            "propositions": {"hp": self.hp, "hd": self.hd},
            "created_utc": self.created_utc,
            "modified_utc": self.modified_utc,
            "inputs": [i.to_json() for i in self.inputs],
            "settings": self.settings,
            "provenance": self.provenance,
            "results": self.results,
            "audit_log": [e.to_json() for e in self.audit_log],
        }

    @classmethod
    def from_json(cls, data: dict) -> Case:
        if data.get("schema") != CASE_SCHEMA:
            raise ValueError(f"not a Patchwise case manifest (schema {data.get('schema')!r})")
        return cls(
            case_id=data["case_id"],
            examiner=data["examiner"],
            agency=data["agency"],
            notes=data["notes"],
            hp=data["propositions"]["hp"],
            hd=data["propositions"]["hd"],
            created_utc=data["created_utc"],
            modified_utc=data["modified_utc"],
            inputs=tuple(CaseInput.from_json(i) for i in data["inputs"]),
            settings=data["settings"],
            provenance=data["provenance"],
            results=data["results"],
            audit_log=tuple(AuditEntry.from_json(e) for e in data["audit_log"]),
        )
