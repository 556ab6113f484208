"""The desktop bundle (packaging/build_app.sh): build it, then run `compare`, `gui` and
`report` through the bundled executable, with no Python on PATH, and check the outputs
against the same commands run from source.

The build takes about 4.5 CPU-minutes (docs/packaging.md), so the test is marked slow
(deselect it with -m "not slow"); CI runs it. PATCHWISE_BUNDLE_DIR=dist/patchwise tests
an existing bundle instead of building one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import __version__
from core.case.environment import git_commit
from core.cli import main as cli_main
from core.third_party_notices import all_notices, notices_text

REPO = Path(__file__).resolve().parents[1]
DEMO_PAIR = ("identities/obama/obama_1.jpg", "identities/obama/obama_2.jpg")
RUN_TIMEOUT_S = 600
# The shared libraries of a CUDA build of torch (or of NVIDIA's pip packages).
CUDA_LIBRARY = re.compile(
    r"(^|/)(nvidia/|lib(cudart|cublas|cudnn|cufft|curand|cusparse|cusolver|nccl|nvrtc|nvJitLink"
    r"|torch_cuda|c10_cuda)[^/]*\.so)"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The one-folder app: PATCHWISE_BUNDLE_DIR, else built now into a temporary folder."""
    existing = os.environ.get("PATCHWISE_BUNDLE_DIR")
    if existing:
        return Path(existing).resolve()
    out = tmp_path_factory.mktemp("bundle")
    env = dict(os.environ, PYTHON=sys.executable, DIST_DIR=str(out / "dist"))
    env["WORK_DIR"] = str(out / "work")
    build = subprocess.run(
        ["bash", str(REPO / "packaging" / "build_app.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "dist" / "patchwise"


@pytest.fixture(scope="module")
def demo_pair(faces_dir) -> tuple[str, str]:
    return tuple(str(faces_dir / name) for name in DEMO_PAIR)


def build_info(bundle: Path) -> dict:
    return json.loads((bundle / "_internal" / "build_info.json").read_text(encoding="utf-8"))


def test_bundle_records_the_commit_it_was_built_from(bundle):
    info = build_info(bundle)
    assert info["app_version"] == __version__
    if not os.environ.get("PATCHWISE_BUNDLE_DIR"):  # built just now, from this checkout
        assert info["git_commit"] == git_commit(REPO)


def run_bundled(bundle: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the bundled executable with no Python and no source tree in reach."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(cwd),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [str(bundle / "patchwise"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def test_bundle_holds_resources_and_notices_but_no_tests_tk_or_cuda(bundle):
    internal = bundle / "_internal"
    for name in ("models/manifest.json", "models/faceres.safetensors", "fonts/LICENSE"):
        assert (internal / "resources" / name).is_file(), name
    assert list((internal / "resources" / "calibration").glob("*.demo.json"))
    # written by the bundled executable from the metadata it carries: the same notices,
    # licence texts included, as read from the source environment
    notices = (bundle / "THIRD_PARTY_NOTICES.txt").read_bytes().decode("utf-8")
    assert notices == notices_text(all_notices())
    files = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*")]
    assert not [f for f in files if CUDA_LIBRARY.search(f)]
    assert not [f for f in files if "_tkinter" in f or "libtk" in f]
    assert not [f for f in files if f.startswith(("_internal/tests/", "_internal/torch/test/"))]
    assert (internal / "torch" / "bin" / "torch_shm_manager").is_file()  # import torch needs it


def test_bundled_compare_matches_source(bundle, demo_pair, tmp_path):
    result = run_bundled(bundle, "compare", *demo_pair, "--json", "bundle.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cosine" in result.stdout
    bundled = json.loads((tmp_path / "bundle.json").read_text(encoding="utf-8"))
    assert cli_main(["compare", *demo_pair, "--json", str(tmp_path / "source.json")]) == 0
    source = json.loads((tmp_path / "source.json").read_text(encoding="utf-8"))
    assert bundled["model"]["weights_sha256"] == source["model"]["weights_sha256"]
    assert bundled["score"]["cosine"] == pytest.approx(source["score"]["cosine"], abs=1e-5)
    assert bundled["decomposition"]["residual"] <= 1e-5
    assert bundled["evidence"]["decision"] == source["evidence"]["decision"] == "same"


def test_bundled_gui_screenshot(bundle, demo_pair, tmp_path):
    shot = tmp_path / "window.png"
    result = run_bundled(
        bundle, "gui", *demo_pair, "--screenshot", str(shot), "--quit-after-ready", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[0] >= 400 and image.shape[1] >= 800
    assert image.reshape(-1, 3).std(axis=0).max() > 20  # photos and plots, not a blank window


def test_bundled_report_writes_a_pdf_with_the_score(bundle, demo_pair, tmp_path):
    import pypdfium2 as pdfium

    result = run_bundled(
        bundle, "report", *demo_pair, "--out", "case.pdf", "--save-case", "case.pwcase",
        "--examiner", "Łukasz Żółć", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    pdf = pdfium.PdfDocument(str(tmp_path / "case.pdf"))
    text = " ".join(page.get_textpage().get_text_range() for page in pdf)
    assert len(pdf) >= 3
    assert "Łukasz Żółć" in text and "UNCALIBRATED" in text.upper()
    commit = build_info(bundle)["git_commit"]  # the bundle has no git: recorded at build
    assert commit is None or commit[:12] in text
    assert (tmp_path / "case.pwcase").stat().st_size > 0
