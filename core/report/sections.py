"""The report's sections as reportlab flowables: title, summary, figures, methods, limits, appendix.

Numbers come from the case's stored result (what the JSON says); figures come
from the `Comparison` recomputed from the stored originals (the GUI's
objects). A re-run checks that the two agree, and the report says whether
they did. Evidence (LR, C-Score, calibration) and explainers are optional:
when a case has none, their sections say "not computed".
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from core.case.case_model import ROLE_TITLES, Case
from core.case.rerun import TERM_TOLERANCE
from core.case.search_origin import search_disclosure
from core.models.face_model import ModelKind
from core.models.fused import (
    DEMO_NOTE,
    FUSED_GAUGE_SPAN,
    TABLE_HEADERS,
    fusion_table,
    is_demo_fit,
)
from core.report import figures
from core.report.styles import (
    NOTE_FILL,
    RULE,
    boxed,
    key_value_table,
    para,
)
from core.signed_colormap import MEANING

NOT_COMPUTED = "not computed"
TOP_PAIRS = 6

PAPERS = {
    "rrfnet": "Ozturk et al., restricted receptive fields for face verification (RRFNet), "
    "Eq. 3-8 (exact patch-pair decomposition of the cosine)",
    "xcos": "Lin et al., xCos: an explainable cosine metric for face verification, Eq. 2",
}


@dataclass
class ReportContext:
    case: Case
    comparison: object  # core.engine.Comparison recomputed from the stored originals
    verification: object | None  # core.case.case_file.CaseVerification
    rerun: object | None  # core.case.rerun.RerunResult
    generated_utc: str
    explanations: tuple = ()  # core.explainers Explanation objects, in case order

    @property
    def stored(self) -> dict:
        return self.case.comparison_json

    @property
    def evidence(self) -> dict | None:
        return self.case.results.get("evidence")

    @property
    def calibration(self) -> dict | None:
        """The case's calibration record (file, SHA-256, status, demo), or None."""
        return self.case.settings.get("calibration")

    @property
    def score_kind(self) -> str:
        return self.stored["score"].get("kind", "cosine")


def _image(png: bytes, width: float, max_height: float | None = None) -> Image:
    """A PNG scaled to `width` points (less if taller than `max_height`), aspect kept."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as im:
        w, h = im.size
    scale = width / w
    if max_height is not None:
        scale = min(scale, max_height / h)
    return Image(io.BytesIO(png), width=w * scale, height=h * scale)


def _fmt(value: float, digits: int = 4) -> str:
    return f"{value:+.{digits}f}"


# -- warnings -------------------------------------------------------------------------


def warnings_for(ctx: ReportContext) -> list[str]:
    """Every warning a reader must see first, most serious first."""
    out = []
    if ctx.verification is not None and not ctx.verification.ok:
        out.append("INTEGRITY CHECK FAILED: " + "; ".join(ctx.verification.problems))
    if ctx.verification is not None and not ctx.verification.signed:
        out.append(
            f"CASE {ctx.verification.signature.summary().upper()}: this report was made "
            "although the case is not signed by a trusted key (report --allow-unsigned, or "
            "exported from the workbench); nothing ties its content to a trusted examiner key."
        )
    if ctx.rerun is not None and not ctx.rerun.reproduced:
        out.append(
            "NOT REPRODUCED: re-computing from the stored originals gave different results ("
            + "; ".join(ctx.rerun.differences)
            + "). The figures show the re-computed result."
        )
    search = ctx.case.settings.get("search")
    if search:
        out.append(search_disclosure(search))
    calibration = ctx.calibration
    if not calibration:
        out.append(
            f"UNCALIBRATED: the {ctx.score_kind} score is a similarity, not a likelihood ratio. "
            "No calibration was applied, so this report makes no statement about the strength "
            "of evidence."
        )
    elif calibration.get("demo"):
        out.append(
            "DEMO CALIBRATION — NOT FOR CASEWORK: the likelihood ratio, C-Score and verbal "
            f"statement below come from {calibration.get('file')}, a demonstration calibration "
            "fitted on a few public photos that are not relevant to this case. They show how "
            "the method works; they are not evidence."
        )
    elif calibration.get("status", "").startswith("UNVERIFIED"):
        out.append(
            f"CALIBRATION NOT VERIFIED: {calibration['status']}. The lab calibration "
            f"{calibration.get('file')} carries no signature by a trusted key, so nothing shows "
            "that it is the file the laboratory validated."
        )
    model = ctx.case.provenance["model"]
    label = model.get("label", "")
    if not ModelKind(model["kind"]).trained_for_its_cells:
        out.append(f"MODEL: {label}. Its patch terms are exact, but it was not trained as such.")
    return out


# -- title and summary ------------------------------------------------------------------


NOTES_IN_TABLE = 1000  # characters; longer notes follow the table as paragraphs


def _notes_cell(notes: str) -> str:
    if not notes:
        return "(none)"
    return notes if len(notes) <= NOTES_IN_TABLE else "(long; in full under 'Case notes' below)"


def title_section(ctx: ReportContext) -> list:
    case = ctx.case
    software = case.provenance["software"]
    flow = [
        para("Forensic facial image comparison report", "title"),
        para(f"Patchwise {software['app_version']} — case {case.case_id}", "subtitle"),
        Spacer(1, 4 * mm),
        key_value_table(
            [
                ("Case ID", case.case_id),
                ("Examiner", case.examiner or "(not given)"),
                ("Agency", case.agency or "(not given)"),
                ("Case created (UTC)", case.created_utc),
                ("Case last modified (UTC)", case.modified_utc),
                ("Report generated (UTC)", ctx.generated_utc),
                ("Notes", _notes_cell(case.notes)),
            ]
        ),
        Spacer(1, 4 * mm),
    ]
    if len(case.notes) > NOTES_IN_TABLE:  # a table row cannot split across pages
        flow += [para("Case notes", "h2")]
        flow += [para(line or " ", "body") for line in case.notes.split("\n")]
        flow += [Spacer(1, 4 * mm)]
    for text in warnings_for(ctx):
        flow += [boxed([para(text, "warning")]), Spacer(1, 2 * mm)]
    flow += [
        para("Propositions", "h1"),
        key_value_table([("Hp", case.hp), ("Hd", case.hd)]),
        para(
            "Patchwise compares the two faces under both propositions only through a calibrated "
            "likelihood ratio. A similarity score on its own does not say how much more "
            "probable the observations are under Hp than under Hd.",
            "small",
        ),
    ]
    return flow


def summary_section(ctx: ReportContext) -> list:
    stored = ctx.stored
    score = stored["score"]["cosine"]
    evidence = ctx.evidence or {}
    rows = [
        (f"Score ({ctx.score_kind})", f"{_fmt(score)}   (full precision in the appendix)"),
        ("Decision against threshold", _decision_text(score, ctx)),
        ("C-Score", _cscore_text(evidence)),
        ("Likelihood ratio", _lr_text(evidence)),
        ("Verbal statement", _verbal_text(evidence)),
        ("Calibration", _calibration_text(ctx)),
        ("Integrity of the originals", _integrity_text(ctx)),
        ("Reproducibility", _reproducibility_text(ctx)),
        (
            "Compared",
            f"image A {ctx.case.input('A').name} (face {ctx.case.input('A').face_index + 1}) with "
            f"image B {ctx.case.input('B').name} (face {ctx.case.input('B').face_index + 1})",
        ),
        ("Model", f"{stored['model']['id']}: {stored['model'].get('label', '')}"),
    ]
    return [para("Summary", "h1"), key_value_table(rows)]


def gauge_figure(ctx: ReportContext) -> list:
    score = ctx.stored["score"]["cosine"]
    threshold, _ = _threshold(ctx)
    # A fused score is a log-odds, not bounded by 1: its dial is wider (clipped at its ends).
    span = FUSED_GAUGE_SPAN if ctx.score_kind == "fused log-odds" else 1.0
    gauge = figures.gauge(
        max(-span, min(span, score)),
        low=-span,
        high=span,
        threshold=threshold,
        label=ctx.score_kind,
    )
    caption = (
        f"Figure 1. The {ctx.score_kind} score on the range {-span:+g} to {span:+g}"
        + (
            f"; the black tick marks the threshold {threshold:+.4f}."
            if threshold is not None
            else "."
        )
        + " Colour follows the sign only; it is not a strength of evidence."
    )
    return [KeepTogether([_image(gauge, 62 * mm), para(caption, "caption")])]


def _threshold(ctx: ReportContext) -> tuple[float | None, str]:
    """(threshold, where it comes from): the examiner's when uncalibrated, else the evidence's."""
    explicit = ctx.case.settings.get("threshold")
    stored = (ctx.evidence or {}).get("threshold") or {}
    if explicit is not None and not ctx.calibration:
        default = (
            f"the default is {stored['cosine']:+.4f}, {stored.get('source', '')}"
            if stored.get("cosine") is not None
            else stored.get("source") or "no documented default"
        )
        return float(explicit), f"set by the examiner; {default}"
    if stored.get("cosine") is None:
        return None, stored.get("source") or "no threshold was set"
    return float(stored["cosine"]), stored.get("source", "")


def _decision_text(score: float, ctx: ReportContext) -> str:
    threshold, source = _threshold(ctx)
    if threshold is None:
        return f"{NOT_COMPUTED}: {source}"
    side = "at or above" if score >= threshold else "below"
    verdict = "candidate match" if score >= threshold else "not a candidate match"
    return (
        f"score {_fmt(score)} is {side} the threshold {_fmt(threshold)} ({source}): "
        f"{verdict}. A threshold decision is an investigative screening result, "
        "not an evaluation of the propositions."
    )


def _cscore_text(evidence: dict) -> str:
    cscore = evidence.get("c_score")
    if not cscore:
        return f"{NOT_COMPUTED} (needs a calibration with a fitted C-Score model)"
    return (
        f"{cscore['c_score']:.3f} (confidence of the threshold decision, 0.5-1; "
        f"{cscore['folds']} folds ranged {cscore['fold_min']:.3f}-{cscore['fold_max']:.3f})"
    )


def _lr_text(evidence: dict) -> str:
    log10_lr = evidence.get("log10_lr")
    if log10_lr is None:
        return f"{NOT_COMPUTED} (no calibration)"
    text = f"LR {evidence['lr']:.3g} (log10 LR {log10_lr:+.2f})"
    bounds = evidence.get("elub_log10")
    if bounds:
        text += f"; ELUB bounds [{bounds[0]:+.2f}, {bounds[1]:+.2f}] in log10"
        if evidence.get("elub_applied"):
            text += f" applied (unbounded log10 LR {evidence['log10_lr_unbounded']:+.2f})"
    return text


def _verbal_text(evidence: dict) -> str:
    verbal = evidence.get("verbal")
    if not verbal:
        return f"{NOT_COMPUTED} (no calibration)"
    return f"{verbal['statement']} (verbal scale {verbal.get('scale_version', '')})"


def _calibration_text(ctx: ReportContext) -> str:
    record = ctx.calibration
    if not record:
        return "none: the score is uncalibrated"
    provenance = (ctx.evidence or {}).get("calibration") or {}
    counts = provenance.get("counts") or {}
    parts = [record.get("status", ""), f"file {record['file']}"]
    if provenance.get("calibrator"):
        parts.append(f"{provenance['calibrator']} calibrator")
    if counts:
        parts.append(", ".join(f"{k} {v}" for k, v in counts.items()))
    parts.append(f"SHA-256 {record['sha256']}")
    return "; ".join(p for p in parts if p)


def _integrity_text(ctx: ReportContext) -> str:
    if ctx.verification is None:
        return "originals read directly from the files named; their SHA-256s are in the appendix"
    signature = ctx.verification.signature_line()
    if ctx.verification.ok:
        return f"verified: every stored original matches its recorded SHA-256. {signature}"
    return f"FAILED: {'; '.join(ctx.verification.problems)}. {signature}"


def _reproducibility_text(ctx: ReportContext) -> str:
    if ctx.rerun is None:
        return "not re-run (the result was computed for this report)"
    return ctx.rerun.summary()


# -- figures ----------------------------------------------------------------------------


def figure_sections(ctx: ReportContext) -> list:
    comparison = ctx.comparison
    dec = comparison.decomposition
    layout = dec.layout
    flow = [PageBreak(), para("Figures", "h1"), *gauge_figure(ctx)]

    photos = [figures.original_photo(side) for side in (comparison.a, comparison.b)]
    captions = [
        _photo_caption(role, side)
        for role, side in zip("AB", (comparison.a, comparison.b), strict=True)
    ]
    flow += [
        _side_by_side([_image(p, 82 * mm, 95 * mm) for p in photos], captions),
        para(
            "Figure 2. The original photos as loaded (EXIF orientation applied). Every face the "
            "detector found is boxed; the compared face is in yellow.",
            "caption",
        ),
    ]

    rows, cols = dec.row_marginals(), dec.column_marginals()
    limit = figures.symmetric_limit(np.concatenate([rows, cols]))
    aligned = [figures.aligned_face(side, layout) for side in (comparison.a, comparison.b)]
    maps = [
        figures.contribution_overlay(comparison.a, layout, rows, limit),
        figures.contribution_overlay(comparison.b, layout, cols, limit),
    ]
    flow += [
        CondPageBreak(80 * mm),
        _side_by_side(
            [_image(p, 40 * mm) for p in aligned + maps],
            ["A aligned", "B aligned", "A: contribution per cell", "B: contribution per cell"],
        ),
        _image(figures.colour_bar(limit, label="contribution to the score"), 110 * mm),
        para(
            f"Figure 3. The aligned faces the model compared ({layout.input_size}×"
            f"{layout.input_size} px, {comparison.a.aligned.template}), and how much each cell "
            f"({layout.label}) contributes: for A, the sum of its row of pair terms plus its "
            "bias term; for B, the sum of its column plus its bias term. Red raises the score, "
            "blue lowers it, white is 0; both maps share one scale."
            + (
                " Where patches overlap, a pixel shows the mean of the patches covering it."
                if layout.kind != "grid"
                else ""
            ),
            "caption",
        ),
    ]

    flow += pair_grid_figures(ctx)
    flow += fused_members_section(ctx)
    flow += top_pairs_section(ctx)
    flow += explainer_section(ctx)
    return flow


def pair_grid_figures(ctx: ReportContext) -> list:
    """Figure 4: the pair terms. A fused model's are block-diagonal (a member's cells only
    pair with its own), and members' terms differ in size by orders of magnitude, so each
    member's block is drawn on its own colour scale (4a, 4b, ...)."""
    dec = ctx.comparison.decomposition
    layout = dec.layout
    ending = f"{_sum_text(dec)} {_forward_text(ctx.stored)}"
    members = [part for part in (dec.parts or ()) if "cells" in part]
    if not members:
        png, limit = figures.pair_grid(dec.pair_matrix)
        caption = (
            f"Figure 4. All {layout.count}×{layout.count} pair terms (cell i of A with cell j "
            f"of B), colour scale ±{limit:.4f}. {_numbering(layout)} {ending}"
        )
        return [CondPageBreak(125 * mm), _image(png, 115 * mm), para(caption, "caption")]
    flow = []
    for letter, part in zip("abcdefghijklmnopqrstuvwxyz", members, strict=False):
        start, end = part["cells"]
        png, limit = figures.pair_grid(dec.pair_matrix[start:end, start:end])
        caption = (
            f"Figure 4{letter}. {part['model']}: its {end - start}×{end - start} pair terms "
            f"scaled by its weight w_m = {_fmt(part['weight'], 6)} (cells {start} to {end - 1} "
            f"of the fused model, numbered from 0 here), colour scale ±{limit:.3g}."
        )
        flow += [CondPageBreak(125 * mm), _image(png, 100 * mm), para(caption, "caption")]
    flow.append(
        para(
            f"Each member's cells pair only with its own, so Figure 4 shows the {len(members)} "
            f"blocks of the {layout.count}×{layout.count} fused pair terms, each on its own "
            f"colour scale; every other term is 0. {ending}",
            "caption",
        )
    )
    return flow


def fused_members_section(ctx: ReportContext) -> list:
    """The fused score by member model (as the workbench's member table shows it), from
    the case's stored parts and score; nothing for a single model."""
    stored = ctx.stored
    table = fusion_table(stored["decomposition"].get("parts"), stored["score"]["cosine"])
    if table is None:
        return []
    rows = [TABLE_HEADERS, *table.rows()]
    grid = Table(
        [
            [para(text, "cell_bold" if r == 0 else "cell") for text in row]
            for r, row in enumerate(rows)
        ],
        colWidths=[45 * mm, 35 * mm, 35 * mm, 35 * mm],
        hAlign="LEFT",
    )
    grid.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE)]))
    demo = f" {DEMO_NOTE}" if is_demo_fit(stored["model"]) else ""
    return [
        CondPageBreak(60 * mm),
        para("The fused score by member model", "h2"),
        grid,
        para(
            f"Table 1. The fused score is Σ w_m·cos_m + b, a log-odds, not a cosine: "
            f"{_fmt(table.total, 6)} against the recorded score {_fmt(table.score, 6)} "
            f"(|difference| {table.difference:.1e}). Each member's block of Figure 4 is its own "
            f"exact pair terms scaled by its weight w_m.{demo}",
            "caption",
        ),
    ]


def _numbering(layout) -> str:
    if layout.kind == "grid":
        side = round(layout.count**0.5)
        return f"Cells are numbered row by row from the top left of the {side}×{side} grid."
    return "Patches are numbered as the model lists them (Appendix B gives the model)."


def _sum_text(dec) -> str:
    """The exactness statement: the terms add up to the score."""
    pairs = float(dec.pair_matrix.sum())
    bias = float(dec.bias_a.sum() + dec.bias_b.sum() + dec.bias_bias)
    has_bias = bool(np.any(dec.bias_a) or np.any(dec.bias_b) or dec.bias_bias)
    parts = f"pair terms {_fmt(pairs, 6)}" + (f" + bias terms {_fmt(bias, 6)}" if has_bias else "")
    return (
        f"Sum of {parts} = {_fmt(dec.total, 6)}; the score is {_fmt(dec.cosine, 6)} (residual "
        f"{dec.residual:.1e}, a rounding check: both come from the same cell vectors)."
        + ("" if has_bias else " This model has no bias terms.")
    )


def _forward_text(stored: dict) -> str:
    """The independent check: the terms against the model's own forward pass."""
    forward = stored["decomposition"].get("forward_residual")
    if forward is None:
        return "The check against the model's own forward pass was not computed for this case."
    return (
        "Independent check: the model's ordinary forward pass, a separate code path, gives "
        f"{_fmt(stored['decomposition']['forward_score'], 6)}; it differs from the sum of the "
        f"terms by {forward:.1e} (forward residual)."
    )


def _photo_caption(role: str, side) -> str:
    ev = side.prepared.evidence
    return (
        f"{ROLE_TITLES[role]}: {ev.name}, {ev.width}×{ev.height} px; face {side.index + 1} of "
        f"{len(side.prepared.faces)} found"
    )


def _side_by_side(images: list, captions: list[str]) -> Table:
    cells = [[img, para(text, "small")] for img, text in zip(images, captions, strict=True)]
    table = Table([cells], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def top_pairs_section(ctx: ReportContext) -> list:
    dec = ctx.comparison.decomposition
    positive, negative = dec.top_pairs(TOP_PAIRS)
    flow = [
        CondPageBreak(90 * mm),
        para("Top contributing cell pairs", "h2"),
        para(
            "Each row: face A with cell i boxed, cell i enlarged, cell j of B enlarged, face B "
            "with cell j boxed, and the pair's term (its exact additive share of the score), "
            "in the manner of the RRFNet paper's Fig. 2."
            + (
                " Shares of the score can exceed 100 % because other terms are negative."
                if negative
                else ""
            )
            + (
                " Grid cells show where a feature sits, but its receptive field covers more "
                "of the face than the box."
                if dec.layout.kind == "grid"
                else " Each patch term depends only on the pixels of its two patches."
            ),
            "small",
        ),
    ]
    for title, pairs in (("Raising the score most", positive), ("Lowering it most", negative)):
        flow.append(para(title, "cell_bold"))
        if not pairs:
            flow.append(
                para(
                    "none: every pair term of this comparison is ≥ 0, so no pair lowers the score.",
                    "small",
                )
            )
            continue
        rows = [
            [
                _image(figures.pair_thumbnail(ctx.comparison, p["i"], p["j"]), 95 * mm),
                [
                    para(f"cell {p['i']} of A with cell {p['j']} of B", "cell"),
                    para(f"term {_fmt(p['term'], 5)}", "cell_bold"),
                    para(f"{100 * p['term'] / dec.cosine:+.1f} % of the score", "cell"),
                ],
            ]
            for p in pairs
        ]
        table = Table(rows, colWidths=[100 * mm, 70 * mm], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ]
            )
        )
        flow.append(table)
    return flow


def explainer_section(ctx: ReportContext) -> list:
    explainers = ctx.case.results.get("explainers") or []
    flow = [CondPageBreak(60 * mm), para("Explainer overlays", "h2")]
    if not explainers:
        return flow + [
            para(
                f"{NOT_COMPUTED}: no post-hoc explainer was run for this case. The pair terms "
                "above are the model's exact decomposition and need no explainer.",
                "small",
            )
        ]
    flow.append(
        para(
            "Each map is drawn on the aligned face it explains, scaled by its own largest "
            f"|value|, in the one signed colour map of every Patchwise figure: {MEANING} "
            "(transparent where a region has no effect). "
            "Per-pair score AUC (deletion/insertion, after CorrRISE Alg. 2, which measures "
            "dataset accuracy instead: `explain-bench`): the faces' pixels are removed (or "
            "restored) in the order the map ranks them and the score is tracked; a faithful "
            "map gives a lower deletion AUC and a higher insertion AUC than random maps. "
            "X-Maps Method III is tested with both faces occluded at the same place, as it "
            "was made. A map that does no better than random is marked WORSE THAN RANDOM.",
            "small",
        )
    )
    for index, item in enumerate(explainers):
        explanation = ctx.explanations[index] if index < len(ctx.explanations) else None
        flow += _explainer_block(item, explanation, ctx)
    return flow


def _explainer_block(item: dict, explanation, ctx: ReportContext) -> list:
    block = [para(f"{item.get('label', item['method'])} — seed {item.get('seed')}", "cell_bold")]
    if explanation is not None:
        from core.explainers.overlay import render_overlay

        images = [
            _image(figures.png_bytes(render_overlay(side.aligned.image, heat)), 50 * mm)
            for side, heat in (
                (ctx.comparison.a, explanation.map_a),
                (ctx.comparison.b, explanation.map_b),
            )
        ]
        block.append(_side_by_side(images, [f"{item['method']} on A", f"{item['method']} on B"]))
    else:
        block.append(para("maps not available in this run (re-run the case to draw them)", "small"))
    fid = item.get("fidelity") or {}
    fidelity_text = (
        f"per-pair score AUC, deletion {fid['deletion_auc']:.4f} (random maps "
        f"{fid['random_deletion_auc']:.4f}); insertion {fid['insertion_auc']:.4f} (random maps "
        f"{fid['random_insertion_auc']:.4f})"
        if "deletion_auc" in fid
        else NOT_COMPUTED
    )
    worse = [k for k, v in (fid.get("worse_than_random") or {}).items() if v]
    if worse:
        fidelity_text += f" — WORSE THAN RANDOM on {' and '.join(worse)}"
    details = item.get("explanation") or {}
    block.append(
        para(
            f"Fidelity: {fidelity_text}. {_sanity_text(item.get('sanity'))}"
            f"Map units: {details.get('units', '')}. "
            f"Parameters: {_params_text(details.get('parameters') or {})}. "
            f"{details.get('forward_passes', '?')} forward passes.",
            "caption",
        )
    )
    return [KeepTogether(block)]


def _sanity_text(sanity: dict | None) -> str:
    """The cascading randomisation check, when it was run (report --sanity, or the
    workbench's "Sanity check the current map"), with its verdict recomputed from the
    recorded correlations."""
    from core.explainers.sanity import sanity_verdict, verdict_text

    if not sanity:
        return ""
    levels = "; ".join(
        f"top {lv['randomised_layers']}/{lv['of_layers']} layer groups re-drawn: A "
        f"{lv['spearman_a']:+.2f}, B {lv['spearman_b']:+.2f}"
        for lv in sanity["levels"]
    )
    return (
        "Randomisation check (Adebayo et al.; Spearman rho of this map against the map of the "
        f"model with its top layers re-drawn; a faithful map falls towards 0): {levels}. "
        f"{verdict_text(sanity_verdict(sanity['levels']))} The check is printed as the case "
        "records it; a re-run of the case repeats the maps, not this check. "
    )


def _params_text(parameters: dict) -> str:
    def show(value) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{k} {show(v)}" for k, v in parameters.items()) or "defaults"


# -- methods and limitations --------------------------------------------------------------


def methods_section(ctx: ReportContext) -> list:
    stored = ctx.stored
    detector, model = stored["detector"], stored["model"]
    layout = stored["decomposition"]["layout"]
    align = stored["a"]["alignment"]
    weights = detector.get("weights") or {}
    rows = [
        (
            "Detector",
            f"{detector.get('id')} ({detector.get('kind')}); weights "
            f"{weights.get('file', '')}, thresholds {detector.get('thresholds', '')}; faces "
            "numbered by box area, largest first",
        ),
        (
            "Alignment",
            "similarity transform of the 5 detected landmarks onto a fixed template "
            f"({align['template']}), output {align['size']}×{align['size']} px",
        ),
        ("Model", f"{model['id']}: {model.get('label', '')}"),
        ("Model source", _source_text(model)),
        (
            "Score and decomposition",
            f"{ctx.score_kind} of the two embeddings, written exactly as a sum of "
            f"{layout['count']}×{layout['count']} pair terms of {layout['label']}"
            f"{' plus bias terms' if _has_bias(stored) else ' (the model has no bias terms)'}; "
            f"after {PAPERS['xcos'] if ctx.score_kind == 'xcos' else PAPERS['rrfnet']}; "
            "computed in float64",
        ),
        ("Explainers", _explainer_methods(ctx)),
        ("Evidence", _evidence_methods(ctx)),
        (
            "Re-run check",
            f"a re-run recomputes everything from the stored originals; it counts as "
            f"reproduced when model and detector hashes match, face boxes agree to 0.001 px, "
            f"and the score and every term agree to {TERM_TOLERANCE:g}",
        ),
    ]
    return [CondPageBreak(90 * mm), para("Methods", "h1"), key_value_table(rows)]


def _has_bias(stored: dict) -> bool:
    bias = stored["decomposition"]["bias_terms"]
    return bool(any(bias["a"]) or any(bias["b"]) or bias["bias_bias"])


def _source_text(model: dict) -> str:
    """Where the weights came from and their license, from the model's provenance."""
    source, licence = model.get("source"), model.get("license")
    parts = []
    if isinstance(source, dict):
        name = source.get("package") or source.get("name") or ""
        parts.append(f"{name} {source.get('version', '')}".strip())
    elif source:
        parts.append(str(source))
    if model.get("origin"):
        origin = model["origin"]
        parts.append(
            f"origin: {origin.get('name', origin) if isinstance(origin, dict) else origin}"
        )
    if isinstance(licence, dict):
        parts.append(f"license {licence.get('spdx') or licence.get('summary') or ''}")
    elif licence:
        parts.append(f"license {licence}")
    return "; ".join(parts) or "not recorded"


def _explainer_methods(ctx: ReportContext) -> str:
    explainers = ctx.case.results.get("explainers") or []
    if not explainers:
        return NOT_COMPUTED
    return "; ".join(
        f"{e.get('label', e['method'])}: "
        f"{_params_text((e.get('explanation') or {}).get('parameters') or {})}; "
        f"seed {e.get('seed')}"
        for e in explainers
    )


def _evidence_methods(ctx: ReportContext) -> str:
    if not ctx.calibration:
        return f"{NOT_COMPUTED}: no calibration, so no likelihood ratio or C-Score"
    return (
        "score-to-LR calibration with the NFI's lir library, bounded by ELUB (Vergeer et al. "
        "2016); C-Score after Knoche et al. (Eq. 1-3); verbal scale after the ENFSI guideline "
        "(2015). The calibration file is stored in the case and its SHA-256 is in Appendix B."
    )


LIMITATIONS = (
    "The score measures how similar the model finds two face images. It is not a probability "
    "that they show the same person, and without a calibration relevant to the case "
    "conditions it cannot be turned into one.",
    "Face recognition models err more on low resolution, blur, strong compression, extreme "
    "pose, occlusion (masks, glasses, hands), heavy make-up, ageing between photos and "
    "twins or close relatives. Their accuracy also differs between demographic groups.",
    "The bundled models were trained by third parties on public face datasets (see "
    "Methods), not on forensic material, and Patchwise has not validated them for casework.",
    "The pair terms explain what the model computed, exactly; they do not show which "
    "facial features a human examiner should rely on. Grid-cell features see beyond their "
    "box (overlapping receptive fields).",
    "Post-hoc explainer maps are approximations with their own parameters and randomness; "
    "their fidelity figures say how well they track the model.",
    "The detector may miss faces or pick the wrong one; the compared face is shown boxed "
    "and must be checked by the examiner.",
    "This report supports, and does not replace, a trained examiner's morphological comparison.",
)


def limitations_section(ctx: ReportContext) -> list:
    flow = [para("Limitations", "h1")]
    flow += [para(f"• {text}", "body") for text in LIMITATIONS]
    return flow


# -- appendix -----------------------------------------------------------------------------


def appendix_section(ctx: ReportContext) -> list:
    case, stored = ctx.case, ctx.stored
    flow = [PageBreak(), para("Appendix A. Original evidence", "h1")]
    for item in case.inputs:
        exif = ", ".join(f"{k}: {v}" for k, v in item.exif_summary.items()) or "none"
        flow += [
            para(f"Image {ROLE_TITLES[item.role]}: {item.name}", "h2"),
            key_value_table(
                [
                    ("SHA-256", para(item.sha256, "mono")),
                    (
                        "Size",
                        f"{item.size_bytes:,} bytes, {item.format}, {item.width}×{item.height} px",
                    ),
                    ("EXIF", exif),
                    ("Conversions", "; ".join(item.conversions) or "none"),
                    ("Compared face", _face_text(stored[item.role.lower()])),
                ]
            ),
        ]
    if ctx.verification is not None:
        flow += [para("Verification on opening", "h2")]
        flow += [
            para(text, "small") for text in ctx.verification.checked + ctx.verification.problems
        ]

    flow += [para("Appendix B. Software, models and settings", "h1"), _provenance_table(ctx)]
    flow += [
        para("Appendix C. Exact values", "h1"),
        key_value_table(
            [
                ("score (JSON)", para(repr(stored["score"]["cosine"]), "mono")),
                ("sum of terms", para(repr(stored["decomposition"]["sum_of_terms"]), "mono")),
                ("residual", para(repr(stored["decomposition"]["residual"]), "mono")),
                (
                    "forward residual",
                    para(repr(stored["decomposition"].get("forward_residual")), "mono"),
                ),
            ]
            + _rerun_rows(ctx)
        ),
    ]
    flow += [para("Appendix D. Audit log (UTC)", "h1"), _audit_table(case)]
    return flow


def _face_text(side: dict) -> str:
    index = side["chosen_face"]
    face = side["faces"][index]
    box = ", ".join(f"{v:.1f}" for v in face["box"])
    if face.get("placed_by_hand"):
        points = "; ".join(f"({x:.1f}, {y:.1f})" for x, y in face["landmarks"])
        return (
            f"face {index + 1} (index {index}): the five landmarks were PLACED BY HAND by the "
            f"examiner at {points} px (left eye, right eye, nose tip, mouth corners); "
            "they replace the detector's face for this image"
        )
    return (
        f"face {index + 1} of {side['faces_found']} found (index {index}); "
        f"box (x1, y1, x2, y2) = ({box}) px; "
        f"detector score {face['score']:.3f}"
    )


def _provenance_table(ctx: ReportContext) -> Table:
    case = ctx.case
    software = case.provenance["software"]
    model, detector = case.provenance["model"], case.provenance["detector"]
    settings = case.settings
    calibration = ctx.calibration or {}
    explainers = case.results.get("explainers") or []
    seeds = (
        ", ".join(f"{e['method']}: {e.get('seed')}" for e in explainers) or "none (no random step)"
    )
    rows = [
        (
            "Patchwise",
            f"{software['app_version']}, git commit "
            f"{software.get('git_commit') or 'unknown (not run from a git checkout)'}",
        ),
        (
            "Python / torch / numpy",
            f"{software['python']} / {software['torch']} / {software.get('numpy', '')}",
        ),
        ("Platform, device", f"{software.get('platform', '')}; {software['device']}"),
        ("Model", f"{model['id']}, weights {model.get('weights_file', '')}"),
        ("Model SHA-256", para(model.get("weights_sha256", ""), "mono")),
        (
            "Detector",
            f"{detector.get('id')}, weights {(detector.get('weights') or {}).get('file', '')}",
        ),
        ("Detector SHA-256", para((detector.get("weights") or {}).get("sha256", ""), "mono")),
        (
            "Settings",
            f"model {settings['model_id']}; detector {settings.get('detector_kind')}; "
            f"max pixels {settings.get('max_pixels') or 'default'}; examiner's threshold "
            f"{settings.get('threshold') if settings.get('threshold') is not None else 'not set'}",
        ),
        ("Calibration", calibration.get("file") or "none"),
        ("Calibration SHA-256", para(calibration.get("sha256") or "none", "mono")),
        ("Seeds", seeds),
    ]
    return key_value_table(rows)


def _rerun_rows(ctx: ReportContext) -> list:
    if ctx.rerun is None:
        return [("re-run", "not performed")]
    m = ctx.rerun.measures
    return [
        ("re-run score", para(repr(m["rerun_cosine"]), "mono")),
        ("|Δ score|", f"{m['cosine_abs_diff']:.3e}"),
        ("max |Δ pair term|", f"{m['pair_matrix_max_abs_diff']:.3e}"),
        ("max |Δ bias term|", f"{m['bias_terms_max_abs_diff']:.3e}"),
        ("re-run outcome", ctx.rerun.summary()),
    ]


def _audit_table(case: Case) -> Table:
    rows = [
        [para("time (UTC)", "cell_bold"), para("action", "cell_bold"), para("detail", "cell_bold")]
    ]
    rows += [
        [para(e.time_utc, "mono"), para(e.action, "cell"), para(e.detail, "small")]
        for e in case.audit_log
    ]
    table = Table(rows, colWidths=[50 * mm, 33 * mm, 87 * mm], hAlign="LEFT", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), NOTE_FILL),
            ]
        )
    )
    return table
