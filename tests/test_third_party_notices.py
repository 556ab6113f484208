"""Third-party notices: the runtime dependency closure, its licence texts, and the
bundled fonts' and models' licences (core/third_party_notices.py)."""

from __future__ import annotations

import json

import pytest
from packaging.utils import canonicalize_name

from core.cli import main
from core.resource_paths import RESOURCES_DIR
from core.third_party_notices import (
    NO_TEXT,
    all_notices,
    notices_text,
    runtime_distributions,
)


@pytest.fixture(scope="module")
def notices():
    return all_notices()


@pytest.fixture(scope="module")
def by_name(notices) -> dict:
    return {notice.name.lower(): notice for notice in notices}


def test_closure_holds_direct_and_transitive_runtime_dependencies_only():
    names = {canonicalize_name(dist.metadata["Name"]) for dist in runtime_distributions()}
    # direct (pyproject dependencies) and transitive (torch needs sympy, insightface onnx)
    assert {"torch", "numpy", "pyside6-essentials", "reportlab", "lir"} <= names
    assert {"shiboken6", "sympy", "onnx"} <= names
    # the app itself and the dev extra are not third-party runtime components
    assert "patchwise" not in names
    assert not {"pytest", "pytest-qt", "ruff", "pypdfium2"} & names


def test_an_uninstalled_root_is_an_error_not_an_empty_list():
    with pytest.raises(LookupError, match="not installed"):
        runtime_distributions("no-such-distribution-xyz")


def test_licence_texts_are_the_shipped_files(by_name):
    numpy = by_name["numpy"]
    assert numpy.licence.startswith("BSD-3-Clause")
    files = dict(numpy.texts)
    main_licence = next(text for name, text in files.items() if name.endswith("LICENSE.txt"))
    assert "Copyright (c)" in main_licence and "NumPy Developers" in main_licence
    # onnxruntime keeps its notices beside the package, not in the metadata folder
    assert any(name.endswith("ThirdPartyNotices.txt") for name, _ in by_name["onnxruntime"].texts)
    # no source file is mistaken for a licence (insightface ships model_license.py)
    assert all(not name.endswith(".py") for n in by_name.values() for name, _ in n.texts)


def test_fonts_and_every_bundled_model_are_listed(by_name):
    fonts = by_name["dejavu fonts"]
    assert dict(fonts.texts)["resources/fonts/LICENSE"] == (
        RESOURCES_DIR / "fonts" / "LICENSE"
    ).read_text(encoding="utf-8")
    entries = json.loads((RESOURCES_DIR / "models" / "manifest.json").read_text("utf-8"))
    for model_id, entry in entries.items():
        if "license" not in entry:  # Patchwise's own file (the fusion fit): no notice
            assert f"model weights: {model_id}" not in by_name
            continue
        notice = by_name[f"model weights: {model_id}"]
        text = notice.texts[0][1]
        assert entry["license"]["summary"] in text
        assert entry.get("origin", "") in text


def test_notices_file_names_every_component(notices, tmp_path, capsys):
    out = tmp_path / "THIRD_PARTY_NOTICES.txt"
    assert main(["notices", "--out", str(out)]) == 0
    text = out.read_bytes().decode("utf-8")  # byte for byte: some licences have CRLF
    assert text == notices_text(notices)
    for notice in notices:
        assert f"{notice.name} {notice.version} ({notice.kind})" in text
    # a distribution with no licence file says so instead of showing nothing
    assert NO_TEXT in text
    assert "notices written to" in capsys.readouterr().out
