"""PAdES signatures on PDF reports (pyhanko), and checking them.

A report is signed with the examiner's Ed25519 key (core/signing/keys.py)
under a self-signed X.509 certificate made from it (subject: the signer's
name, valid one year from signing), or with a lab's PKCS#12 file (key and
certificate chain issued by the lab). The signature is PAdES B-B
(ETSI.CAdES.detached) over the whole file as written; nothing is fetched from
the network, when signing or when checking.

`check_pdf` reports, for every signature: the signer, the time the signer's
clock gave, whether the bytes it covers are intact, whether it covers the
whole file (a change appended after signing leaves it intact but partial),
and whether the certificate is trusted here (the examiner's own certificate,
the trusted keys of core/signing, or the lab's chain given as trust roots).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

# pyhanko (with lxml and its other native parts) is imported with this module, not on first
# use: a first import inside the report worker loads native libraries while holding the GIL,
# which stalled the GUI thread (tests/test_gui_heartbeat.py).
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from core.errors import UsageError
from core.safe_read import read_regular_file
from core.signing import key_store
from core.signing.keys import fingerprint

FIELD_NAME = "PatchwiseExaminer"
MAX_PDF_BYTES = 512 << 20
MAX_PKCS12_BYTES = 1 << 20


def _self_signed_certificate(signer) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, signer.name[:64] or "examiner"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Patchwise examiner key"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, signer.fingerprint[:32]),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(signer.key.public_key())
        .serial_number(int(signer.fingerprint[:30], 16))
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .sign(signer.key, algorithm=None)
    )


def _as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def examiner_pdf_signer():
    """A pyhanko signer from the examiner key and a self-signed certificate made from it."""

    signer = key_store().signer()
    certificate = _as_asn1(_self_signed_certificate(signer))
    private = signer.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=asn1_keys.PrivateKeyInfo.load(private),
        cert_registry=SimpleCertificateStore.from_certs([certificate]),
    )


def pkcs12_pdf_signer(path: str | Path, passphrase: str | None):
    """A pyhanko signer from a lab's PKCS#12 file (key, certificate and its chain)."""

    source = Path(path)
    data = read_regular_file(source, MAX_PKCS12_BYTES, UsageError, "PKCS#12 file")
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        return signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=secret)
    except (ValueError, TypeError, OSError) as exc:
        raise UsageError(f"{source}: cannot load the PKCS#12 file ({exc})") from None


def load_root_certificate(path: str | Path) -> asn1_x509.Certificate:
    """A PEM or DER certificate to trust as a root when checking PDF signatures."""
    source = Path(path)
    data = read_regular_file(source, MAX_PKCS12_BYTES, UsageError, "certificate")
    try:
        loaded = (
            x509.load_pem_x509_certificate(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(data)
        )
    except ValueError as exc:
        raise UsageError(f"{source}: not an X.509 certificate ({exc})") from None
    return _as_asn1(loaded)


def sign_pdf(data: bytes, signer) -> bytes:
    """The PDF `data` with a PAdES B-B signature by `signer` appended (incremental update)."""

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Patchwise forensic comparison report",
    )
    out = signers.sign_pdf(writer, metadata, signer=signer)
    return out.getvalue()


@dataclass(frozen=True)
class PdfSignatureCheck:
    signer: str
    signed_time: str | None
    intact: bool  # the covered bytes hash to what was signed, and the signature is valid
    whole_file: bool  # it covers every byte of the file (nothing appended after)
    trusted: bool  # the certificate is the examiner's own, a trusted key's, or a given root
    key_fingerprint: str | None

    @property
    def verified(self) -> bool:
        return self.intact and self.whole_file and self.trusted

    def summary(self) -> str:
        state = (
            "verified"
            if self.verified
            else "MODIFIED AFTER SIGNING"
            if not (self.intact and self.whole_file)
            else "signed by an untrusted certificate"
        )
        return (
            f"{state}: {self.signer} at {self.signed_time or 'unknown time'}; intact "
            f"{self.intact}, covers the whole file {self.whole_file}, trusted {self.trusted}"
        )


def check_pdf(path: str | Path, extra_roots: tuple = ()) -> list[PdfSignatureCheck]:
    """Every signature of a PDF, checked offline (an empty list: the PDF is unsigned)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    source = Path(path)
    data = read_regular_file(source, MAX_PDF_BYTES, UsageError, "PDF")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{source}: not a readable PDF ({exc})") from None
    trusted = key_store().trusted_fingerprints()
    checks = []
    for signature in embedded:
        certificate = signature.signer_cert
        roots = [certificate, *extra_roots]
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            status = validate_pdf_signature(signature, context)
            intact = bool(status.intact and status.valid)
            whole = status.coverage.name == "ENTIRE_FILE"
            when = status.signer_reported_dt
        except (SignatureValidationError, PdfError, ValueError):
            intact, whole, when = False, False, None  # damaged beyond validation
        key = _key_fingerprint(certificate)
        own = key is not None and key in trusted
        in_roots = any(certificate.sha256 == root.sha256 for root in extra_roots)
        checks.append(
            PdfSignatureCheck(
                signer=certificate.subject.human_friendly,
                signed_time=when.isoformat() if when else None,
                intact=intact,
                whole_file=whole,
                trusted=own or in_roots,
                key_fingerprint=key,
            )
        )
    return checks


def _key_fingerprint(certificate: asn1_x509.Certificate) -> str | None:
    """The core/signing fingerprint of an Ed25519 certificate's key (None for other keys)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    loaded = x509.load_der_x509_certificate(certificate.dump()).public_key()
    return fingerprint(loaded) if isinstance(loaded, Ed25519PublicKey) else None
