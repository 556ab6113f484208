"""Ed25519 signatures of cases and calibrations (docs/reports.md, "Signatures")."""

from core.signing.envelope import SignatureCheck, sign_bytes, verify_bytes
from core.signing.keys import KeyStore, key_store

__all__ = ["KeyStore", "SignatureCheck", "key_store", "sign_bytes", "verify_bytes"]
