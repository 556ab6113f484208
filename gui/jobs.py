"""The jobs the workbench runs in workers: plain functions over core, no Qt."""

from __future__ import annotations

from gui.workers import ENGINE_LOCK


def prepare_job(engine, source, name: str | None = None):
    """Load one photo (a path, or its bytes named `name`) and detect its faces."""

    def job(progress, cancelled):
        progress(0.0, f"loading and detecting faces in {name or source}")
        with ENGINE_LOCK:
            return engine.prepare(source, name=name)

    return job


def compare_job(engine, prepared_q, prepared_k, model_id: str, face_q: int, face_k: int):
    """Align, embed and decompose the chosen faces with one model."""

    def job(progress, cancelled):
        progress(0.0, f"loading model {model_id}")
        with ENGINE_LOCK:
            engine.model(model_id)
            if cancelled():
                return None
            progress(0.3, "aligning and embedding")
            return engine.compare_prepared(prepared_q, prepared_k, model_id, face_q, face_k)

    return job
