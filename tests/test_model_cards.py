"""Model cards: the measured figures reach the registry and the `models` listing."""

from __future__ import annotations

from core.cli import main
from core.models.registry import DEFAULT_MODEL, model_card, model_ids


def test_every_bundled_model_has_a_card_and_the_default_was_measured():
    for model_id in model_ids():
        card = model_card(model_id)
        assert card is not None, model_id
        assert card["source"] and card["licence"] and card["decomposition"].startswith("exact")
    default = model_card(DEFAULT_MODEL)
    assert "LFW development photos" in default["accuracy"]
    assert "TAR at FAR 1 %" in default["accuracy"]["LFW development photos"]
    assert "face_recognition_1.3" in default["measured"]
    assert model_card("not-a-model") is None


def test_models_prints_the_cards(capsys):
    assert main(["models", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "dlib-resnet" in out and "CC0-1.0" in out
    assert "decomposition: exact: 4x4 pairs" in out
    assert "fused" in out and "DEMO" in out
