"""The `.pwcase` file: a zip of `manifest.json`, `signature.json` and byte-identical originals.

Saving builds the whole archive in memory, signs the manifest's exact bytes
with the examiner's Ed25519 key (core/signing; the manifest holds every
stored file's SHA-256 and the audit log's head hash, so the signature covers
them all) and writes it with core/atomic_write.py (temp file, fsync, rename),
so a crash mid-save leaves the previous file intact. Originals are stored
uncompressed (ZIP_STORED): the bytes in the archive are the evidence bytes.
Opening reads the file under the rules of core/safe_read.py, validates the
manifest (core/schemas/case_manifest.py), checks the signature, re-hashes
every original and checks the audit log; nothing is trusted unchecked, and
nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.atomic_write import write_bytes_atomically
from core.case.analyses import CALIBRATION_KEY
from core.case.case_model import Case
from core.errors import CaseFileError
from core.safe_read import read_regular_file, read_zip_members
from core.schemas.case_manifest import CaseManifestModel
from core.schemas.common import validated
from core.signing import SignatureCheck, key_store, sign_bytes, verify_bytes
from core.signing.envelope import MODIFIED, UNSIGNED
from core.strict_json import parse_json

MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
CASE_SUFFIX = ".pwcase"
MAX_CASE_BYTES = 1 << 30  # originals are evidence photos; 1 GiB is far above any real case
MAX_MEMBER_BYTES = 512 << 20
MAX_MANIFEST_BYTES = 32 << 20
_MEMBER_NAME = re.compile(r"(originals/[AB]|calibration)/[A-Za-z0-9._-]{1,255}")


@dataclass
class CaseVerification:
    """What opening a case checked, every problem found, and its signature's status."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    signature: SignatureCheck = field(default_factory=lambda: SignatureCheck(UNSIGNED))

    @property
    def signed(self) -> bool:
        """Verified by a trusted key (what `report` needs without --allow-unsigned)."""
        return self.signature.verified

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return "integrity verified: " + "; ".join(self.checked)
        return "INTEGRITY CHECK FAILED: " + "; ".join(self.problems)

    def signature_line(self) -> str:
        """One line for a status bar or page 1: the signature's status, signer and time."""
        return "Signature: " + self.signature.summary()

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


def save_case(case: Case, path: str | os.PathLike, originals: dict[str, bytes]) -> SignatureCheck:
    """Write `case` and its stored files to `path` atomically, signed; return the signature.

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
    data, record, manifest = _archive_bytes(draft, originals)
    write_bytes_atomically(target, data)
    case.audit_log, case.modified_utc = draft.audit_log, draft.modified_utc
    return verify_bytes(record, manifest, key_store())


def _archive_bytes(case: Case, originals: dict[str, bytes]) -> tuple[bytes, dict, bytes]:
    """(the .pwcase bytes, the signature record, the signed manifest bytes)."""
    stamp = _zip_time(case.modified_utc)
    buffer = io.BytesIO()
    manifest = json.dumps(case.to_json(), indent=2, ensure_ascii=False).encode("utf-8")
    # What is saved must open again: the same schema, before anything is written.
    validated(CaseManifestModel, json.loads(manifest), "cannot save the case", CaseFileError)
    record = sign_bytes(manifest, key_store())
    signature = json.dumps(record, indent=2).encode("utf-8")
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_member(MANIFEST, stamp, zipfile.ZIP_DEFLATED), manifest)
        archive.writestr(_member(SIGNATURE, stamp, zipfile.ZIP_DEFLATED), signature)
        for key, member, _, _ in stored_members(case):
            archive.writestr(_member(member, stamp, zipfile.ZIP_STORED), originals[key])
    return buffer.getvalue(), record, manifest


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
    """Read a .pwcase, check it and return (case, originals, verification).

    Raises CaseFileError (one line) when the file is not a readable case at
    all: not a regular file, too large, a zip breaking the member rules
    (core/safe_read.py), or a manifest breaking its schema
    (core/schemas/case_manifest.py). When it is readable but something was
    altered (the signature, an original's bytes, a missing or extra member,
    the audit log), the problems are in the verification: the caller must show
    them (the CLI refuses to report on such a case, exit 9).
    """
    source = Path(path)
    where = str(source)
    data = read_regular_file(source, MAX_CASE_BYTES, CaseFileError, "case file")
    members = read_zip_members(
        data,
        _plausible_member,
        max_member=MAX_MEMBER_BYTES,
        max_total=MAX_CASE_BYTES,
        where=where,
        error=CaseFileError,
        what="Patchwise case file",
    )
    if MANIFEST not in members:
        raise CaseFileError(f"{where}: not a Patchwise case file (no {MANIFEST})")
    manifest_bytes = members[MANIFEST]
    if len(manifest_bytes) > MAX_MANIFEST_BYTES:
        raise CaseFileError(f"{where}: the manifest is over {MAX_MANIFEST_BYTES} bytes")
    case, recorded_head = _read_manifest(manifest_bytes, where)
    verification = CaseVerification()
    verification.signature = _check_signature(members.get(SIGNATURE), manifest_bytes, where)
    if verification.signature.status == MODIFIED:
        verification.problems.append(f"the case was {verification.signature.summary()}")
    else:
        verification.checked.append(f"signature: {verification.signature.summary()}")
    originals = {}
    stored = stored_members(case)
    for key, member, sha256, label in stored:
        content = _check_stored(members.get(member), sha256, label, verification)
        if content is not None:
            originals[key] = content
    expected = {MANIFEST, SIGNATURE, *(m[1] for m in stored)}
    for extra in sorted(set(members) - expected):
        verification.problems.append(f"unexpected file in the case: {extra}")
    _check_results_match_inputs(case, verification)
    chain = case.audit_chain_problems(recorded_head)
    verification.problems.extend(chain)
    if not chain:
        anchored = "anchored in the manifest" if recorded_head else "NOT anchored (old case)"
        verification.checked.append(
            f"audit log chain intact ({len(case.audit_log)} entries, {anchored})"
        )
    return case, originals, verification


def _plausible_member(name: str) -> bool:
    """Names a case may hold; which ones it must hold comes from its manifest."""
    return name in (MANIFEST, SIGNATURE) or _MEMBER_NAME.fullmatch(name) is not None


def _read_manifest(data: bytes, where: str) -> tuple[Case, str | None]:
    raw = parse_json(data, f"{where}: manifest", CaseFileError)
    model = validated(CaseManifestModel, raw, f"{where}: manifest", CaseFileError)
    return Case.from_json(raw), model.audit_head_sha256


def _check_signature(record_bytes: bytes | None, manifest: bytes, where: str) -> SignatureCheck:
    if record_bytes is None:
        return verify_bytes(None, manifest, key_store())
    try:
        record = parse_json(record_bytes, f"{where}: {SIGNATURE}", CaseFileError)
    except CaseFileError as exc:
        return SignatureCheck(MODIFIED, detail=str(exc))
    if not isinstance(record, dict):
        return SignatureCheck(MODIFIED, detail=f"{SIGNATURE} does not hold a signature record")
    return verify_bytes(record, manifest, key_store())


def _check_stored(data: bytes | None, sha256: str, label: str, verification) -> bytes | None:
    if data is None:
        verification.problems.append(f"{label}: the stored file is missing")
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
