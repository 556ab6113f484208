"""A signature record over some bytes, and checking one.

The record is JSON:

    {"schema": "patchwise.signature/1", "algorithm": "Ed25519",
     "signer": NAME, "key_fingerprint": HEX, "public_key": BASE64 (raw 32 bytes),
     "signed_utc": ISO-8601, "content_sha256": HEX, "signature": BASE64}

The Ed25519 signature covers the canonical JSON (sorted keys, UTF-8) of every
field but "signature", so the signer's name, the time and the SHA-256 of the
signed content are bound together. Checking says one of:

- "signed": valid, by a key this installation trusts (its own or trusted/);
- "signed by an untrusted key": valid, but anyone can make such a key, so it
  proves only that the content is unchanged since that key signed it;
- "modified after signing": the content or the record does not verify;
- "unsigned": there is no record.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import Field

from core.errors import PatchwiseError
from core.schemas.common import Closed, Sha256, text, validated
from core.signing.keys import KeyStore, fingerprint, raw_public_bytes

SCHEMA = "patchwise.signature/1"
SIGNED = "signed"
UNTRUSTED = "signed by an untrusted key"
MODIFIED = "modified after signing"
UNSIGNED = "unsigned"

Base64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/=]{1,200}$")]


class SignatureRecordModel(Closed):
    schema_: Literal["patchwise.signature/1"] = Field(alias="schema")
    algorithm: Literal["Ed25519"]
    signer: text(200)
    key_fingerprint: Sha256
    public_key: Base64
    signed_utc: text(40)
    content_sha256: Sha256
    signature: Base64


class _BadRecord(PatchwiseError):
    pass


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking a signature record against content."""

    status: str  # SIGNED, UNTRUSTED, MODIFIED or UNSIGNED
    signer: str | None = None
    key_fingerprint: str | None = None
    signed_utc: str | None = None
    detail: str = ""

    @property
    def verified(self) -> bool:
        return self.status == SIGNED

    @property
    def severity(self) -> str:
        """How a front end should show it: "ok", "warning" (unsigned, untrusted) or "error"."""
        return {SIGNED: "ok", MODIFIED: "error"}.get(self.status, "warning")

    def summary(self) -> str:
        if self.status in (SIGNED, UNTRUSTED):
            return (
                f"{self.status}: {self.signer} (key {self.key_fingerprint[:16]}) "
                f"at {self.signed_utc}"
            )
        return f"{self.status}" + (f": {self.detail}" if self.detail else "")

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "signer": self.signer,
            "key_fingerprint": self.key_fingerprint,
            "signed_utc": self.signed_utc,
            "detail": self.detail,
        }


def _canonical(record: dict) -> bytes:
    unsigned = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, ensure_ascii=False).encode("utf-8")


def sign_bytes(content: bytes, store: KeyStore) -> dict:
    """A signature record of `content` with the store's signing key (created on first use)."""
    signer = store.signer()
    record = {
        "schema": SCHEMA,
        "algorithm": "Ed25519",
        "signer": signer.name,
        "key_fingerprint": signer.fingerprint,
        "public_key": base64.b64encode(raw_public_bytes(signer.key.public_key())).decode(),
        "signed_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "content_sha256": hashlib.sha256(content).hexdigest(),
    }
    record["signature"] = base64.b64encode(signer.key.sign(_canonical(record))).decode()
    return record


def verify_bytes(record: object | None, content: bytes, store: KeyStore) -> SignatureCheck:
    """Check a signature record (already parsed JSON, or None) against `content`."""
    if record is None:
        return SignatureCheck(UNSIGNED)
    try:
        model = validated(SignatureRecordModel, record, "signature record", _BadRecord)
    except _BadRecord as exc:
        return SignatureCheck(MODIFIED, detail=str(exc))
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(model.public_key))
        signature = base64.b64decode(model.signature)
    except (ValueError, binascii.Error) as exc:
        return SignatureCheck(MODIFIED, detail=f"malformed key or signature ({exc})")
    who = {
        "signer": model.signer,
        "key_fingerprint": model.key_fingerprint,
        "signed_utc": model.signed_utc,
    }
    if fingerprint(public) != model.key_fingerprint:
        return SignatureCheck(MODIFIED, **who, detail="the key fingerprint does not match the key")
    try:
        public.verify(signature, _canonical(record))
    except InvalidSignature:
        return SignatureCheck(MODIFIED, **who, detail="the signature record was altered")
    if hashlib.sha256(content).hexdigest() != model.content_sha256:
        return SignatureCheck(MODIFIED, **who, detail="the signed content was changed")
    if model.key_fingerprint not in store.trusted_fingerprints():
        return SignatureCheck(
            UNTRUSTED, **who, detail="the key is not in this installation's trusted keys"
        )
    return SignatureCheck(SIGNED, **who)
