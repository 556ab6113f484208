"""The work the workbench hands to worker threads: plain functions over the engine, no Qt.

A job is `job(progress, cancelled) -> result`; the GUI's JobRunner runs it in a
thread. Every job that touches the engine's caches or models holds
`engine.lock` (the Engine owns it), so jobs on one engine never overlap.
"""

from __future__ import annotations

import time
from pathlib import Path

from core.errors import PatchwiseError
from core.explainers.base import pair_from_comparison
from core.explainers.faithfulness import fidelity
from core.explainers.gallery import load_gallery
from core.explainers.registry import explain, randomisation_check
from core.models.registry import available_model_ids, load_model
from core.report.pdf_report import write_report
from core.workbench.explainer_catalogue import (
    DEFAULT_RUNTIME,
    EXPLAINER_SEED,
    FIDELITY,
    TOGGLES,
    describe,
    settings_for,
)
from core.workbench.map_sanity import SANITY_LEVELS, progress_text


def prepare_job(engine, source, name: str | None = None):
    """Load one photo (a path, or its bytes named `name`) and detect its faces."""

    def job(progress, cancelled):
        progress(0.0, f"loading and detecting faces in {name or source}")
        with engine.lock:
            return engine.prepare(source, name=name)

    return job


def compare_job(engine, prepared_q, prepared_k, model_id: str, face_q: int, face_k: int):
    """Align, embed and decompose the chosen faces with one model."""

    def job(progress, cancelled):
        progress(0.0, f"loading model {model_id}")
        with engine.lock:
            engine.model(model_id)
            if cancelled():
                return None
            progress(0.3, "aligning and embedding")
            return engine.compare_prepared(prepared_q, prepared_k, model_id, face_q, face_k)

    return job


def provenance_job(engine):
    """Every registered model's describe() (or why it is unavailable), by id."""

    def job(progress, cancelled):
        described = {}
        for model_id in available_model_ids():
            if cancelled():
                break
            try:
                with engine.lock:
                    described[model_id] = load_model(model_id, engine.device).describe()
            except PatchwiseError as exc:
                described[model_id] = {"id": model_id, "error": str(exc)}
        return described

    return job


def gallery_job(folder: str, engine, model_id: str, runtime: str = "torch"):
    """Embed the largest face of every photo under `folder` with `model_id` (cached on disk),
    on `runtime` (torch, or onnx: the ONNX Runtime fast path)."""

    def job(progress, cancelled):
        def step(done, total):
            progress(done / max(total, 1), "gallery")

        with engine.lock:
            model = load_model(model_id, engine.device)
            return load_gallery(folder, engine, model, step, cancelled, runtime=runtime)

    return job


def refining_text(label: str, done: int, total: int, elapsed: float) -> str:
    """'X-Map II: refining — n of N passes, about T s left' (T from the rate so far)."""
    eta = f", about {elapsed / done * (total - done):.0f} s left" if done else ""
    return f"{label}: refining — {done} of {total} passes{eta}"


def explain_job(label: str, comparison, gallery=None, runtime: str = DEFAULT_RUNTIME):
    """The maps of one explainer toggle, with provisional maps about every second.

    No engine lock: the job works on a snapshot (the Comparison's read-only
    aligned faces and cached embeddings) and on forward passes of an already
    loaded model, which touch no engine cache, so a new comparison is never kept
    waiting. Its progress carries {"map_a", "map_b", "done", "total"} as a partial
    result. Fidelity is a job of its own (fidelity_job), run after the map is shown.
    """
    name, _ = TOGGLES[label]
    settings = settings_for(label, gallery)

    def job(progress, cancelled):
        start = time.perf_counter()

        def text(done: int, total: int) -> str:
            return refining_text(label, done, total, time.perf_counter() - start)

        def step(done: int, total: int) -> None:
            progress(done / max(total, 1), text(done, total))

        def partial(map_a, map_b, done: int, total: int) -> None:
            maps = {"map_a": map_a, "map_b": map_b, "done": done, "total": total}
            progress(done / max(total, 1), text(done, total), maps)

        explanation = explain(
            name, comparison, settings, EXPLAINER_SEED, step, cancelled, runtime, partial
        )
        return {
            "map_a": explanation.map_a,
            "map_b": explanation.map_b,
            "info": describe(label, explanation.to_json(), None),
            "method": name,
            "settings": settings,
            "seed": EXPLAINER_SEED,
            "explanation": explanation,  # kept so that a case can record it
            "figures": None,  # fidelity_job's, once measured
        }

    return job


def fidelity_job(label: str, comparison, explanation, runtime: str = DEFAULT_RUNTIME):
    """Deletion/insertion fidelity of a computed map against random maps (no engine lock)."""

    def job(progress, cancelled):
        def step(done: int, total: int) -> None:
            progress(done / max(total, 1), f"{label}: fidelity — {done} of {total} passes")

        pair = pair_from_comparison(comparison, runtime=runtime)
        return fidelity(pair, explanation, FIDELITY, EXPLAINER_SEED, step, cancelled)

    return job


def sanity_job(label: str, comparison, cached: dict):
    """The cascading randomisation check of a computed map (no engine lock: it explains
    randomised copies of the model, never the engine's own). Returns {"sanity": the
    check's JSON record, "maps": [(level, map_a, map_b)] of the randomised models}."""
    name = TOGGLES[label][0]

    def job(progress, cancelled):
        maps = []

        def step(done: int, total: int) -> None:
            progress(done / max(total, 1), progress_text(label, done, total))

        sanity = randomisation_check(
            name,
            comparison,
            cached["explanation"],
            cached["settings"],
            cached["seed"],
            SANITY_LEVELS,
            cancelled,
            step,
            lambda level, ex: maps.append((level, ex.map_a, ex.map_b)),
        )
        return {"sanity": sanity, "maps": maps}

    return job


def report_job(engine, case, comparison, out_pdf: str, verification=None, explanations=()):
    """Render the case's PDF report; returns (path, SHA-256).

    core.report.write_report has no cancel flag: once started, the export runs
    to the end (it takes seconds). A file that cannot be written is an expected
    error (PatchwiseError), shown as such.
    """

    def job(progress, cancelled):
        try:
            with engine.lock:
                digest = write_report(
                    case,
                    comparison,
                    out_pdf,
                    verification=verification,
                    explanations=explanations,
                    progress=progress,
                )
        except OSError as exc:
            raise PatchwiseError(f"cannot write the report to {out_pdf}: {exc}") from None
        return str(Path(out_pdf)), digest

    return job
