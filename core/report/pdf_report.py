"""Write a case's PDF report (reportlab, DejaVu fonts embedded), atomically.

Why reportlab and not Qt's QPdfWriter: core must stay Qt-free so the CLI and
tests can build a report without a display; reportlab embeds TrueType subsets
with Unicode maps (names in any script render and can be searched and
copied); and its layout engine splits long tables (the audit log) across
pages. Every page carries the case id and "page N of M".
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate

from core.atomic_write import write_bytes_atomically
from core.case.case_model import Case, utc_now
from core.report import sections
from core.report.fonts import REGULAR, register_fonts
from core.report.styles import RULE

Progress = Callable[[float, str], None]

# Binary image streams: reportlab's pure-Python ASCII85 encoder (used when its C
# accelerator is absent) takes seconds per report and only makes the file larger.
# Set once here, when the module is imported, never from a worker thread.
rl_config.useA85 = 0
MARGIN = 20 * mm


def write_report(
    case: Case,
    comparison,
    out_path: str | os.PathLike,
    *,
    verification=None,
    rerun=None,
    explanations=(),
    progress: Progress | None = None,
) -> str:
    """Render the report of `case` to `out_path`; return the PDF's SHA-256.

    `comparison` is the core.engine.Comparison of the case's two originals
    (from the run that made the case, or from `rerun_case`); its figures are
    drawn from it; the explainer overlays from `explanations` (Explanation objects in
    the order of case.results["explainers"]; by default rerun.explanations).
    `verification` (from open_case) and `rerun` (from
    rerun_case) are shown when given. The case is only read: the caller logs
    the export with core.case.workflow.record_report (on its own thread).
    `progress(fraction, message)` is called as sections are built.
    """
    report = progress or (lambda fraction, message: None)
    _check_same_inputs(case, comparison)
    register_fonts()
    if rerun is not None and not explanations:
        explanations = rerun.explanations
    ctx = sections.ReportContext(
        case, comparison, verification, rerun, utc_now(), tuple(explanations)
    )
    builders = [
        ("title and summary", lambda: sections.title_section(ctx) + sections.summary_section(ctx)),
        ("figures", lambda: sections.figure_sections(ctx)),
        (
            "methods and limitations",
            lambda: sections.methods_section(ctx) + sections.limitations_section(ctx),
        ),
        ("appendix", lambda: sections.appendix_section(ctx)),
    ]
    story = []
    for number, (name, build) in enumerate(builders):
        report(number / (len(builders) + 1), f"building {name}")
        story += build()
    report(len(builders) / (len(builders) + 1), "laying out pages")
    data = render_pdf(story, case.case_id)
    write_bytes_atomically(out_path, data)
    digest = hashlib.sha256(data).hexdigest()
    report(1.0, "report written")
    return digest


def _check_same_inputs(case: Case, comparison) -> None:
    for role, side in (("A", comparison.a), ("B", comparison.b)):
        if side.prepared.evidence.sha256 != case.input(role).sha256:
            raise ValueError(f"the comparison's image {role} is not the case's original {role}")


def render_pdf(story: list, case_id: str) -> bytes:
    """Lay out the flowables on A4 with the running header and footer; return the PDF bytes."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Patchwise report, case {case_id}",
        author="Patchwise",
        subject="Forensic facial image comparison",
    )
    document.build(story, canvasmaker=_numbered_canvas(case_id))
    return buffer.getvalue()


def _numbered_canvas(case_id: str):
    """A Canvas class that holds every page until the end, to print "page N of M"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width, height = A4
            self.saveState()
            self.setFont(REGULAR, 7.5)
            self.setFillColor(RULE)
            self.setStrokeColor(RULE)
            self.drawString(MARGIN, height - 12 * mm, f"Patchwise report — case {case_id}")
            self.drawRightString(width - MARGIN, height - 12 * mm, "Forensic facial comparison")
            self.line(MARGIN, height - 13.5 * mm, width - MARGIN, height - 13.5 * mm)
            self.line(MARGIN, 13.5 * mm, width - MARGIN, 13.5 * mm)
            self.drawString(MARGIN, 10 * mm, f"Case {case_id}")
            self.drawRightString(width - MARGIN, 10 * mm, f"Page {number} of {total}")
            self.restoreState()

    return NumberedCanvas
