"""Every model everywhere: the GUI opens on a checkpoint given by path and lists checkpoints."""

from __future__ import annotations

from core.cli import main
from core.models import registry
from tests.test_trainable_checkpoint import write_checkpoint


def test_the_window_opens_on_a_checkpoint_path_and_lists_the_user_checkpoints(
    make_window, tmp_path, monkeypatch
):
    monkeypatch.setenv(registry.MODEL_DIR_ENV, str(tmp_path / "models"))
    write_checkpoint(tmp_path / "models" / "mine-rrf", "rrfnet56")
    elsewhere = tmp_path / "elsewhere-rrf"
    write_checkpoint(elsewhere, "rrfnet56", seed=1)
    window = make_window(model_id=str(elsewhere))
    listed = [window.model_box.itemText(i) for i in range(window.model_box.count())]
    assert window.model_box.currentText() == str(elsewhere)
    assert window.state.model_id == str(elsewhere)
    assert "mine-rrf" in listed and registry.DEFAULT_MODEL in listed and "fused" in listed


def test_gui_refuses_an_unknown_model_with_exit_code_7(tmp_path, capsys):
    assert main(["gui", "--model", str(tmp_path / "no-such-model"), "--device", "cpu"]) == 7
    assert "unknown model" in capsys.readouterr().err
