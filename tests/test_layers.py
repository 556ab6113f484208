"""The layers of docs/ARCHITECTURE.md, enforced by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APPLICATION_LAYERS = {"cli", "workbench"}  # core's packages that are not the engine


def _contracts() -> list[dict]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["contracts"]


def test_the_import_linter_contracts_are_kept(capsys):
    from importlinter.cli import lint_imports

    previous = os.getcwd()
    os.chdir(REPO)  # import-linter reads pyproject.toml from the working directory
    try:
        code = lint_imports(no_cache=True, no_logo=True)
    finally:
        os.chdir(previous)
    assert code == 0, capsys.readouterr().out


def test_the_engine_contract_names_every_engine_module():
    engine_contract = _contracts()[0]
    listed = set(engine_contract["source_modules"])
    found = {
        f"core.{path.stem}"
        for path in (REPO / "core").iterdir()
        if path.stem not in APPLICATION_LAYERS
        and not path.stem.startswith("_")
        and (path.suffix == ".py" or (path / "__init__.py").is_file())
    }
    assert listed == found


def test_the_contracts_fail_on_a_forbidden_import(tmp_path):
    """A contract that cannot fail proves nothing: an engine module importing Qt breaks one."""

    for package in ("core", "gui"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "core" / "engine.py").write_text("import PySide6\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["core", "gui"]\n'
        "include_external_packages = true\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "engine"\ntype = "forbidden"\nsource_modules = ["core.engine"]\n'
        'forbidden_modules = ["PySide6"]\n'
    )
    code = (
        "import sys; sys.path.insert(0, '.'); from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True, no_logo=True))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "core.engine is not allowed to import PySide6" in result.stdout


def test_importing_the_cli_with_the_gui_command_never_imports_qt():
    """`core.cli.gui` may import gui, but only when run: the CLI starts without Qt."""
    code = (
        "import sys; from core.cli import build_parser; build_parser(); "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0
