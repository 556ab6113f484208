"""The `.pwcase` file: a zip holding `manifest.json` and byte-identical original photos.

Saving builds the whole archive in memory and writes it with
core/atomic_write.py (temp file, fsync, rename), so a crash mid-save leaves
the previous file intact. Originals are stored uncompressed (ZIP_STORED):
the bytes in the archive are the evidence bytes. Opening re-hashes every
original and checks it against the manifest; nothing is trusted unchecked.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.atomic_write import write_bytes_atomically
from core.case.analyses import CALIBRATION_KEY
from core.case.case_model import Case
from core.errors import CaseFileError

MANIFEST = "manifest.json"
CASE_SUFFIX = ".pwcase"


@dataclass
class CaseVerification:
    """What opening a case checked, and every problem found."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return "integrity verified: " + "; ".join(self.checked)
        return "INTEGRITY CHECK FAILED: " + "; ".join(self.problems)

    def raise_if_failed(self, path) -> None:
        if not self.ok:
            raise CaseFileError(f"{path}: the case file was altered or damaged: {self.summary()}")


def stored_members(case: Case) -> list[tuple[str, str, str, str]]:
    """(key in the files dict, archive member, recorded SHA-256, label) of every stored file.

    The keys are "A" and "B" (the original photos) and, when the case used a
    calibration, "calibration" (the calibration file's bytes).
    """
    members = [
        (i.role, i.archive_path, i.sha256, f"image {i.role} ({i.name})") for i in case.inputs
    ]
    calibration = case.settings.get("calibration")
    if calibration:
        members.append(
            (
                CALIBRATION_KEY,
                calibration["stored_as"],
                calibration["sha256"],
                f"calibration file ({calibration['file']})",
            )
        )
    return members


def save_case(case: Case, path: str | os.PathLike, originals: dict[str, bytes]) -> None:
    """Write `case` and its stored files to `path` atomically.

    `originals` maps "A" and "B" to the photos' bytes (and "calibration" to the
    calibration file's bytes when the case used one). Refuses bytes whose
    SHA-256 is not the one the case records. A "case saved" entry is added to
    the audit log, and kept only if the write succeeds.
    """
    target = Path(path)
    for key, _, sha256, label in stored_members(case):
        data = originals.get(key)
        if data is None:
            raise CaseFileError(f"cannot save: the bytes of {label} are missing")
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            raise CaseFileError(
                f"cannot save: the bytes given for {label} have "
                f"SHA-256 {digest}, but the case records {sha256}"
            )
    draft = replace(case)
    draft.log("case saved", f"to {target.name}")
    write_bytes_atomically(target, _archive_bytes(draft, originals))
    case.audit_log, case.modified_utc = draft.audit_log, draft.modified_utc


def _archive_bytes(case: Case, originals: dict[str, bytes]) -> bytes:
    stamp = _zip_time(case.modified_utc)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        manifest = json.dumps(case.to_json(), indent=2, ensure_ascii=False).encode("utf-8")
        archive.writestr(_member(MANIFEST, stamp, zipfile.ZIP_DEFLATED), manifest)
        for key, member, _, _ in stored_members(case):
            archive.writestr(_member(member, stamp, zipfile.ZIP_STORED), originals[key])
    return buffer.getvalue()


def _member(name: str, stamp: tuple, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = compression
    return info


def _zip_time(iso: str) -> tuple[int, int, int, int, int, int]:
    date, time = iso[:10], iso[11:19]
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, s = (int(x) for x in time.split(":"))
    return (max(y, 1980), mo, d, h, mi, s)


def open_case(path: str | os.PathLike) -> tuple[Case, dict[str, bytes], CaseVerification]:
    """Read a .pwcase, re-hash every original and return (case, originals, verification).

    Raises CaseFileError when the file is not a readable case at all. When it
    is readable but something was altered (an original's bytes, a missing or
    extra member, the audit log chain), the problems are in the verification:
    the caller must show them (the CLI refuses to report on such a case).
    """
    source = Path(path)
    try:
        archive = zipfile.ZipFile(source)
    except FileNotFoundError:
        raise CaseFileError(f"{source}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise CaseFileError(f"{source}: not a Patchwise case file (not a zip: {exc})") from None
    with archive:
        case = _read_manifest(archive, source)
        verification = CaseVerification()
        originals = {}
        members = stored_members(case)
        for key, member, sha256, label in members:
            data = _read_stored(archive, member, sha256, label, verification)
            if data is not None:
                originals[key] = data
        expected = {MANIFEST, *(m[1] for m in members)}
        for extra in sorted(set(archive.namelist()) - expected):
            verification.problems.append(f"unexpected file in the case: {extra}")
    _check_results_match_inputs(case, verification)
    verification.problems.extend(case.audit_chain_problems())
    if not case.audit_chain_problems():
        verification.checked.append(f"audit log chain intact ({len(case.audit_log)} entries)")
    return case, originals, verification


def _read_manifest(archive: zipfile.ZipFile, source: Path) -> Case:
    try:
        data = json.loads(archive.read(MANIFEST).decode("utf-8"))
        return Case.from_json(data)
    except KeyError as exc:
        raise CaseFileError(
            f"{source}: the case manifest is missing or incomplete ({exc})"
        ) from None
    except (ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise CaseFileError(f"{source}: the case manifest is unreadable ({exc})") from None


def _read_stored(archive, member: str, sha256: str, label: str, verification):
    try:
        data = archive.read(member)
    except KeyError:
        verification.problems.append(f"{label}: the stored original is missing")
        return None
    except zipfile.BadZipFile as exc:
        verification.problems.append(f"{label}: the stored original is damaged ({exc})")
        return None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        verification.problems.append(
            f"{label}: ALTERED — its SHA-256 is {digest}, the case records {sha256}"
        )
    else:
        verification.checked.append(f"{label}: SHA-256 {digest} verified")
    return data


def _check_results_match_inputs(case: Case, verification: CaseVerification) -> None:
    """The stored result must be about the stored originals."""
    comparison = case.results.get("comparison") or {}
    for item in case.inputs:
        side = comparison.get(item.role.lower(), {})
        recorded = side.get("image", {}).get("sha256")
        if recorded != item.sha256:
            verification.problems.append(
                f"image {item.role}: the stored result was computed from SHA-256 {recorded}, "
                f"not from the stored original {item.sha256}"
            )
