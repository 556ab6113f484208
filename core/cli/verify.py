"""`verify FILE`: check a .pwcase's, a PDF report's or a calibration's signature.

    verify CASE.pwcase      signature (signer, key, time), every stored SHA-256,
                            the audit log; exit 0 only when signed by a trusted
                            key and intact, else 9
    verify REPORT.pdf       every PAdES signature (pyhanko, offline): signer, time,
                            intact, whole file covered, trusted; exit 0 or 9
    verify CAL.json         the calibration's schema, checks and signature (exit 10
                            when it cannot be used, or is a lab calibration not
                            signed by a trusted key; a DEMO one is unsigned by design)

Nothing is recomputed: `report --case` re-runs the comparison.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import CalibrationError, CaseFileError


def register(commands) -> None:
    parser = commands.add_parser(
        "verify", help="check the signature and integrity of a .pwcase or a calibration file"
    )
    parser.add_argument("file", help="a .pwcase case file, a PDF report or a calibration .json")
    parser.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="CERT.pem",
        help="for a PDF: a certificate to trust as a root (a lab's CA for `report --pkcs12`)",
    )


def run(args) -> int:
    suffix = Path(args.file).suffix.lower()
    if suffix == ".json":
        return _verify_calibration(args.file)
    if suffix == ".pdf":
        return _verify_pdf(args.file, args.root)
    return _verify_case(args.file)


def _verify_pdf(path: str, roots: list[str]) -> int:
    from core.report.pdf_signing import check_pdf, load_root_certificate

    checks = check_pdf(path, tuple(load_root_certificate(root) for root in roots))
    if not checks:
        raise CaseFileError(f"{path}: the PDF carries no signature")
    for check in checks:
        print(f"Signature: {check.summary()}")
    if not all(check.verified for check in checks):
        raise CaseFileError(f"{path}: a signature does not verify (see above)")
    print("verified: signed by a trusted key and unchanged since")
    return 0


def _verify_case(path: str) -> int:
    from core.case.case_file import open_case

    case, _, verification = open_case(path)
    print(f"case {case.case_id}")
    print(verification.signature_line())
    for line in verification.checked:
        print(f"  ok: {line}")
    for line in verification.problems:
        print(f"  PROBLEM: {line}")
    if not verification.ok:
        raise CaseFileError(f"{path}: the case was altered or damaged (see above)")
    if not verification.signed:
        raise CaseFileError(f"{path}: the case is {verification.signature.status}")
    print("verified: signed by a trusted key and unchanged since")
    return 0


def _verify_calibration(path: str) -> int:
    from core.strength_of_evidence.calibration_file import load_calibration

    calibration = load_calibration(path, None)  # None: for whichever model it names
    print(f"calibration {calibration.data['name']}: {calibration.status}")
    print("Signature: " + calibration.signature.summary())
    if not calibration.is_demo and not calibration.signature.verified:
        raise CalibrationError(f"{path}: the lab calibration is not signed by a trusted key")
    return 0
