"""Model cards: source, licence, measured accuracy and decomposition type of each model.

The figures live in resources/models/model_cards.json, written from the output of
benchmarks/bench_models_vs_face_recognition.py (docs/models.md says how and when they were
measured). `models`, the GUI's About box and the docs read them from here.
"""

from __future__ import annotations

import json
from functools import lru_cache

from core.models.weights import MODELS_DIR

CARDS = MODELS_DIR / "model_cards.json"


@lru_cache(maxsize=1)
def model_cards() -> dict:
    """{model id: card}; empty when the file is missing (a checkpoint has no card)."""
    if not CARDS.is_file():
        return {}
    return json.loads(CARDS.read_text(encoding="utf-8"))


def model_card(model_id: str) -> dict | None:
    """The card of a bundled model id, or None (trained checkpoints, pack models)."""
    card = model_cards().get("models", {}).get(model_id)
    if card is None:
        return None
    return {**card, "measured": model_cards().get("measured")}
