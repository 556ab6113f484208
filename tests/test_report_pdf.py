"""The PDF report, read back with pypdfium2, and the `report` command (issue 7)."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
import torch

from core.case import Case, open_case
from core.case.workflow import record_report
from core.cli import main
from core.report.pdf_report import write_report
from core.signed_colormap import MEANING

MODEL = "mobileface"
EXAMINER = "Łukasz Żółć"


@pytest.fixture(scope="module")
def photos(faces_dir) -> dict[str, Path]:
    root = faces_dir / "identities"
    return {
        "A": root / "obama" / "obama_6_small.jpg",
        "B": root / "kit_harington" / "kit_harington_2.jpg",
    }


@pytest.fixture(scope="module")
def comparison(photos):
    from core.detection.select import make_detector
    from core.engine import Engine

    device = torch.device("cpu")
    engine = Engine(make_detector("mtcnn", device=device), device)
    return engine.compare(photos["A"], photos["B"], MODEL)


def _pages_text(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf))]
    finally:
        pdf.close()


def _flat(text: str) -> str:
    """Text with line breaks removed, so wrapped values can be searched."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def report(comparison, tmp_path_factory):
    case = Case.from_comparison(
        comparison, case_id="CASE-Ω-7", examiner=EXAMINER, agency="Komenda Główna"
    )
    path = tmp_path_factory.mktemp("report") / "case.pdf"
    steps = []
    digest = write_report(case, comparison, path, progress=lambda f, m: steps.append(f))
    record_report(case, path, digest)
    return case, path, digest, steps


def test_report_pages_are_numbered_and_carry_the_case_id(report):
    _, path, _, _ = report
    pages = _pages_text(path)
    assert 5 <= len(pages) <= 10
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "CASE-Ω-7" in text


def test_report_text_holds_hashes_model_score_and_warnings(report):
    case, path, digest, steps = report
    text = _flat(" ".join(_pages_text(path)))
    for item in case.inputs:
        assert item.sha256 in text
    assert case.provenance["model"]["weights_sha256"] in text
    assert MODEL in text
    assert repr(case.score) in text  # the score exactly as the JSON has it
    assert f"{case.score:+.4f}" in text
    assert "UNCALIBRATED" in text
    assert "not computed" in text  # LR, C-Score, explainers
    forward = case.comparison_json["decomposition"]["forward_residual"]
    assert forward <= 1e-5 and "forward residual" in text and repr(forward) in text
    assert "a rounding check" in text  # what the old residual is
    assert EXAMINER in text and "Komenda Główna" in text
    assert "case created" in text  # the audit log
    assert steps[-1] == 1.0 and steps == sorted(steps)
    assert case.audit_log[-1].action == "report exported" and digest in case.audit_log[-1].detail


def test_a_fresh_report_is_pades_signed_and_a_one_byte_change_is_detected(report, tmp_path, capsys):
    """pyhanko's validator (offline): the report verifies; one changed byte does not;
    bytes appended after signing leave the signature intact but not covering the file."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from core.report.pdf_signing import check_pdf

    _, path, digest, _ = report
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest  # the logged SHA-256 is of the signed file
    signatures = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert len(signatures) == 1 and signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    (check,) = check_pdf(path)
    assert check.verified and "Patchwise examiner key" in check.signer and check.signed_time
    assert main(["verify", str(path)]) == 0
    assert "Signature: verified" in capsys.readouterr().out

    changed = bytearray(data)
    middle = len(changed) // 3
    changed[middle] ^= 0x01
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    (check,) = check_pdf(tmp_path / "changed.pdf")
    assert not check.intact and not check.verified
    assert main(["verify", str(tmp_path / "changed.pdf")]) == 9

    (tmp_path / "appended.pdf").write_bytes(data + b"\n% appended\n")
    (check,) = check_pdf(tmp_path / "appended.pdf")
    assert check.intact and not check.whole_file and not check.verified


def test_figure_pages_are_not_blank(report):
    _, path, _, _ = report
    pdf = pdfium.PdfDocument(str(path))
    try:
        texts = [pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf))]
        figure_pages = [i for i, t in enumerate(texts) if re.search(r"Figure [1-4]\.", t)]
        assert len(figure_pages) >= 2
        for index in figure_pages:
            pixels = np.asarray(pdf[index].render(scale=0.5).to_pil().convert("L"))
            inked = (pixels < 200).mean()
            assert inked > 0.08, f"page {index + 1} is nearly blank ({inked:.3f} inked)"
    finally:
        pdf.close()


def test_demo_calibration_and_verbal_statement_are_shown(comparison, tmp_path):
    """The bundled DEMO calibration: LR, verbal statement, C-Score and the DEMO warning."""
    from core.case.analyses import add_evidence
    from core.case.workflow import calibration_bytes
    from core.strength_of_evidence.calibration_choice import load_chosen_calibration

    case = Case.from_comparison(comparison, case_id="DEMO-1")
    calibration = load_chosen_calibration("demo", comparison.model)
    data = calibration_bytes(calibration)
    evidence = add_evidence(case, calibration, data)
    path = tmp_path / "demo.pdf"
    write_report(case, comparison, path)
    text = _flat(" ".join(_pages_text(path)))
    assert "DEMO CALIBRATION — NOT FOR CASEWORK" in text
    assert _flat(evidence["verbal"]["statement"]) in text
    assert f"log10 LR {evidence['log10_lr']:+.2f}" in text
    assert f"{evidence['c_score']['c_score']:.3f}" in text
    assert case.settings["calibration"]["sha256"] in text
    assert "UNCALIBRATED" not in text


@pytest.mark.slow
def test_cli_report_then_report_on_the_saved_case(photos, tmp_path, capsys):
    pdf, pwcase = tmp_path / "new.pdf", tmp_path / "c.pwcase"
    args = [str(photos["A"]), str(photos["B"]), "--model", MODEL, "--detector", "mtcnn"]
    code = main(
        [
            "report",
            *args,
            "--out",
            str(pdf),
            "--examiner",
            EXAMINER,
            "--case-id",
            "CLI-1",
            "--threshold",
            "0.3",
            "--save-case",
            str(pwcase),
        ]
    )
    assert code == 0 and pdf.is_file()
    case, _, verification = open_case(pwcase)
    assert verification.ok and case.examiner == EXAMINER
    assert [e.action for e in case.audit_log] == [
        "case created",
        "evidence computed",
        "report exported",
        "case saved",
    ]

    again = tmp_path / "again.pdf"
    assert main(["report", "--case", str(pwcase), "--out", str(again)]) == 0
    text = _flat(" ".join(_pages_text(again)))
    assert "reproduced (tolerance 5e-05" in text
    printed = capsys.readouterr().out
    assert "integrity verified" in printed and "signature: signed: " in printed
    assert "Signature: signed: " in _flat(_pages_text(again)[0])
    assert "below the threshold +0.3000" in text  # different people

    blocked = pdf / "x.pdf"  # a folder that is a file: the write fails cleanly
    assert main(["report", "--case", str(pwcase), "--out", str(blocked)]) == 2
    assert "cannot write the file" in capsys.readouterr().err


@pytest.mark.slow
def test_an_unsigned_case_is_reported_only_when_allowed_and_page_1_says_so(
    photos, tmp_path, capsys
):
    from hostile_corpus import without_signature

    pwcase = tmp_path / "c.pwcase"
    args = [str(photos["A"]), str(photos["B"]), "--model", MODEL, "--detector", "mtcnn"]
    assert (
        main(["report", *args, "--out", str(tmp_path / "a.pdf"), "--save-case", str(pwcase)]) == 0
    )
    unsigned = without_signature(pwcase, tmp_path / "unsigned.pwcase")
    out = tmp_path / "u.pdf"
    assert main(["report", "--case", str(unsigned), "--out", str(out)]) == 9
    assert "unsigned; refusing to report" in capsys.readouterr().err and not out.exists()
    assert main(["report", "--case", str(unsigned), "--out", str(out), "--allow-unsigned"]) == 0
    first_page = _flat(_pages_text(out)[0])
    assert "CASE UNSIGNED" in first_page and "--allow-unsigned" in first_page


@pytest.mark.slow
def test_cli_report_with_an_explainer_and_its_randomisation_check(photos, tmp_path):
    pdf, pwcase = tmp_path / "x.pdf", tmp_path / "x.pwcase"
    args = [str(photos["A"]), str(photos["B"]), "--model", MODEL, "--detector", "mtcnn"]
    args += ["--explain", "gradcam", "--sanity", "--out", str(pdf), "--save-case", str(pwcase)]
    assert main(["report", *args]) == 0
    case, _, verification = open_case(pwcase)
    (item,) = case.results["explainers"]
    assert len(item["sanity"]["levels"]) >= 2 and "worse_than_random" in item["fidelity"]
    text = _flat(" ".join(_pages_text(pdf)))
    assert "per-pair score AUC" in text and "Randomisation check" in text
    assert "Threshold 0.3" in text and ("PASSED" in text or "FAILED" in text)
    assert _flat(MEANING) in text and "green" not in text  # one colour language (issue 15)
    assert [e.action for e in case.audit_log].count("explainer sanity check") == 1


def test_cli_refuses_bad_usage_and_altered_cases(photos, tmp_path):
    out = str(tmp_path / "x.pdf")
    assert main(["report", "--out", out]) == 2
    assert main(["report", str(photos["A"]), "--case", "c.pwcase", "--out", out]) == 2
    assert (
        main(["report", str(photos["A"]), str(photos["B"]), "--out", out, "--case-id", "a/b"]) == 2
    )
    bad = tmp_path / "bad.pwcase"
    bad.write_bytes(b"PK\x03\x04 broken")
    assert main(["report", "--case", str(bad), "--out", out]) == 9


def test_failed_checks_are_the_first_thing_the_report_says(comparison, tmp_path):
    from core.case.case_file import CaseVerification
    from core.case.rerun import RerunResult, compare_results

    case = Case.from_comparison(comparison, case_id="BAD-1")
    stored = case.comparison_json
    fresh = comparison.to_json()
    fresh["score"]["cosine"] += 0.01
    differences, measures = compare_results(stored, fresh)
    rerun = RerunResult(False, tuple(differences), measures, comparison)
    verification = CaseVerification(problems=["image B (x.jpg): ALTERED — test"])
    path = tmp_path / "bad.pdf"
    write_report(case, comparison, path, verification=verification, rerun=rerun)
    first_page = _flat(_pages_text(path)[0])
    assert "INTEGRITY CHECK FAILED" in first_page and "ALTERED — test" in first_page
    assert "NOT REPRODUCED" in first_page and "cosine differs by 0.01" in first_page
    assert first_page.index("INTEGRITY") < first_page.index("Propositions")


def test_long_notes_split_across_pages_and_oversized_ones_are_refused(comparison, tmp_path):
    from core.errors import UsageError

    notes = "\n".join(f"line {n}: " + "observed " * 30 for n in range(70))  # ~19,000 chars
    case = Case.from_comparison(comparison, case_id="NOTES-1", notes=notes)
    write_report(case, comparison, tmp_path / "notes.pdf")
    text = _flat(" ".join(_pages_text(tmp_path / "notes.pdf")))
    assert "Case notes" in text and "line 69:" in text
    with pytest.raises(UsageError, match="notes must be text of at most 20,000"):
        Case.from_comparison(comparison, notes="n" * 5_000_000)


@pytest.mark.slow
def test_a_fused_report_draws_each_members_pair_terms_on_its_own_scale(photos, tmp_path):
    from core.detection.select import make_detector
    from core.engine import Engine

    device = torch.device("cpu")
    comparison = Engine(make_detector("mtcnn", device=device), device).compare(
        photos["A"], photos["B"], "fused"
    )
    members = [p for p in comparison.decomposition.parts if "cells" in p]
    case = Case.from_comparison(comparison, case_id="FUSED-1", examiner=EXAMINER)
    path = tmp_path / "fused.pdf"
    write_report(case, comparison, path)
    text = _flat(" ".join(_pages_text(path)))
    limits = []
    for letter, part in zip("abc", members, strict=True):
        found = re.search(
            rf"Figure 4{letter}\. {re.escape(part['model'])}: .*? colour scale ±([0-9.e-]+)\.", text
        )
        assert found, part["model"]
        start, end = part["cells"]
        block = comparison.decomposition.pair_matrix[start:end, start:end]
        assert float(found.group(1)) == pytest.approx(np.abs(block).max(), rel=0.01)
        limits.append(float(found.group(1)))
    assert max(limits) / min(limits) > 2  # one shared scale would leave a block nearly blank
    assert "Figure 4." not in text  # no single shared-scale grid
