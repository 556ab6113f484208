"""Paragraph and table styles of the PDF report (DejaVu throughout, so any name renders)."""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Table, TableStyle

from core.report.fonts import BOLD, MONO, REGULAR, register_fonts

WARNING_RED = colors.HexColor("#b00020")
WARNING_FILL = colors.HexColor("#fdecea")
NOTE_FILL = colors.HexColor("#eef3fb")
RULE = colors.HexColor("#999999")


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=12.5, spaceAfter=4)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        "caption": ParagraphStyle("caption", parent=body, fontSize=8, leading=10, spaceAfter=8),
        "mono": ParagraphStyle("mono", parent=body, fontName=MONO, fontSize=7.5, leading=9.5),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=18, leading=22),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=10, textColor=RULE),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=BOLD, fontSize=13, leading=16, spaceBefore=8, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=BOLD, fontSize=10.5, leading=13, spaceBefore=6
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=body, fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0
        ),
        "warning": ParagraphStyle(
            "warning", parent=body, fontName=BOLD, textColor=WARNING_RED, fontSize=10, leading=13
        ),
    }


def para(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: user text can never inject markup)."""
    return Paragraph(escape(str(text)), styles()[style])


def markup(text: str, style: str = "body") -> Paragraph:
    """A paragraph of trusted reportlab markup (our own strings only)."""
    return Paragraph(text, styles()[style])


def key_value_table(rows: list[tuple[str, object]], widths=(130, 350)) -> Table:
    """Two columns: a bold label and a value (plain text, or a ready flowable)."""
    data = [
        [para(key, "cell_bold"), value if hasattr(value, "wrap") else para(value, "cell")]
        for key, value in rows
    ]
    table = Table(data, colWidths=list(widths), hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def boxed(flowables: list, fill=WARNING_FILL, border=WARNING_RED, width: float = 480) -> Table:
    """Flowables inside a coloured box (warnings and notes)."""
    table = Table([[flowables]], colWidths=[width], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, border),
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table
