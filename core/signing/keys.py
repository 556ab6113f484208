"""The examiner's Ed25519 key pair and the public keys this installation trusts.

Layout of the key folder ($PATCHWISE_KEY_DIR, else
~/.local/share/patchwise/keys):

    signing_key.pem      the private key, PKCS#8 PEM; encrypted with
                         $PATCHWISE_KEY_PASSPHRASE when that is set at creation
    signer.json          {"name": ..., "created_utc": ..., "fingerprint": ...}
    trusted/*.pem        public keys of other examiners or the lab

The key pair is created on first use (first signature). A lab can import its
own key instead (`import_private_key`) and distribute its public key for
`trust_public_key`. A key's fingerprint is the SHA-256 of its raw 32 bytes.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.atomic_write import write_bytes_atomically, write_json_atomically
from core.errors import UsageError
from core.safe_read import read_regular_file

KEY_DIR_ENV = "PATCHWISE_KEY_DIR"
PASSPHRASE_ENV = "PATCHWISE_KEY_PASSPHRASE"
SIGNER_ENV = "PATCHWISE_SIGNER"
PRIVATE_FILE = "signing_key.pem"
SIGNER_FILE = "signer.json"
TRUSTED_DIR = "trusted"
MAX_KEY_FILE = 64 * 1024


def default_key_dir() -> Path:
    if os.environ.get(KEY_DIR_ENV):
        return Path(os.environ[KEY_DIR_ENV])
    return Path.home() / ".local" / "share" / "patchwise" / "keys"


def raw_public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public_bytes(key)).hexdigest()


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    secret = _passphrase()
    encryption = (
        serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _load_private(data: bytes, where: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=_passphrase())
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"{where}: cannot load the signing key ({exc}); set ${PASSPHRASE_ENV} if it has one"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{where}: the signing key must be an Ed25519 key")
    return key


def load_public_pem(data: bytes, where: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{where}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{where}: the public key must be an Ed25519 key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class Signer:
    """A loaded signing key and who it belongs to."""

    key: Ed25519PrivateKey
    name: str
    fingerprint: str


class KeyStore:
    """The key folder: the examiner's signing key and the trusted public keys."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @property
    def private_path(self) -> Path:
        return self.folder / PRIVATE_FILE

    def has_signing_key(self) -> bool:
        return self.private_path.is_file()

    def signer(self) -> Signer:
        """The signing key, created (with signer.json) on first use."""
        if not self.has_signing_key():
            self._store(Ed25519PrivateKey.generate(), os.environ.get(SIGNER_ENV) or _user())
        data = read_regular_file(self.private_path, MAX_KEY_FILE, UsageError, "signing key")
        key = _load_private(data, self.private_path)
        info = self._signer_info()
        return Signer(key, str(info.get("name") or _user()), fingerprint(key.public_key()))

    def import_private_key(self, pem_path: str | Path, name: str) -> Signer:
        """Make a lab's own Ed25519 key (PEM, PKCS#8) this installation's signing key."""
        source = Path(pem_path)
        key = _load_private(read_regular_file(source, MAX_KEY_FILE, UsageError, "key"), source)
        self._store(key, name)
        return self.signer()

    def trust_public_key(self, pem_path: str | Path) -> str:
        """Add a public key (PEM) to the trusted keys; returns its fingerprint."""
        source = Path(pem_path)
        data = read_regular_file(source, MAX_KEY_FILE, UsageError, "public key")
        key = load_public_pem(data, source)
        digest = fingerprint(key)
        write_bytes_atomically(self.folder / TRUSTED_DIR / f"{digest[:16]}.pem", public_pem(key))
        return digest

    def trusted_fingerprints(self) -> set[str]:
        """The own key's fingerprint (if any) and every trusted public key's."""
        found = set()
        if self.has_signing_key():
            found.add(str(self._signer_info().get("fingerprint", "")))
        folder = self.folder / TRUSTED_DIR
        if folder.is_dir():
            for pem in sorted(folder.glob("*.pem")):
                try:
                    data = read_regular_file(pem, MAX_KEY_FILE, UsageError, "public key")
                    found.add(fingerprint(load_public_pem(data, pem)))
                except UsageError:
                    continue  # an unreadable file trusts nobody
        found.discard("")
        return found

    def _signer_info(self) -> dict:
        path = self.folder / SIGNER_FILE
        try:
            data = json.loads(read_regular_file(path, MAX_KEY_FILE, UsageError, "signer file"))
        except (UsageError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _store(self, key: Ed25519PrivateKey, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        if not self.private_path.exists():
            self.private_path.touch(mode=0o600)
        write_bytes_atomically(self.private_path, _private_pem(key))
        write_json_atomically(
            self.folder / SIGNER_FILE,
            {
                "name": name,
                "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "fingerprint": fingerprint(key.public_key()),
            },
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "examiner"


def key_store() -> KeyStore:
    """The key store of this installation ($PATCHWISE_KEY_DIR or the user data folder)."""
    return KeyStore(default_key_dir())
