"""PAdES signing with a lab's PKCS#12 (report --pkcs12), checked offline with pyhanko."""

from __future__ import annotations

import datetime
import io

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from reportlab.pdfgen.canvas import Canvas

from core.cli.entry import main
from core.report.pdf_signing import check_pdf, pkcs12_pdf_signer, sign_pdf


def _lab_pkcs12(passphrase: bytes) -> tuple[bytes, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Forensic Lab A")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(
        b"lab", key, certificate, None, serialization.BestAvailableEncryption(passphrase)
    )
    return data, certificate


def _pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "report")
    canvas.save()
    return buffer.getvalue()


def test_a_lab_pkcs12_signs_and_is_trusted_only_as_a_given_root(tmp_path):
    from asn1crypto import x509 as asn1_x509

    data, certificate = _lab_pkcs12(b"secret")
    (tmp_path / "lab.p12").write_bytes(data)
    signed = sign_pdf(_pdf(), pkcs12_pdf_signer(tmp_path / "lab.p12", "secret"))
    (tmp_path / "r.pdf").write_bytes(signed)
    (check,) = check_pdf(tmp_path / "r.pdf")
    assert check.intact and check.whole_file and "Forensic Lab A" in check.signer
    assert not check.trusted  # not an examiner key of this installation
    root = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    (check,) = check_pdf(tmp_path / "r.pdf", extra_roots=(root,))
    assert check.verified
    (tmp_path / "lab.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    assert main(["verify", str(tmp_path / "r.pdf")]) == 9
    assert main(["verify", str(tmp_path / "r.pdf"), "--root", str(tmp_path / "lab.pem")]) == 0
