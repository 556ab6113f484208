"""The software and machine that computed a result, for a case's provenance.

The git commit is read with `git rev-parse HEAD` in the source folder, once per
process (the code that runs is the code that was loaded; two git calls per new
case would also stall the workbench); an installed copy has no repository (or
no git), and then the commit is None. The desktop bundle records the commit it
was built from in build_info.json (packaging/patchwise.spec) and reports that one.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import torch

from core import __version__
from core.resource_paths import application_root, is_frozen

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def git_commit(root: Path = _SOURCE_ROOT) -> str | None:
    """The commit of the source tree (with "+dirty" if it has local changes), or None."""
    if is_frozen():
        return bundled_git_commit()
    return _source_tree_commit(root)


@cache
def _source_tree_commit(root: Path) -> str | None:
    """git's answer for `root`, asked once per process."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    dirty = status.returncode == 0 and bool(status.stdout.strip())
    return f"{commit}+dirty" if dirty else commit


def bundled_git_commit() -> str | None:
    """The commit the desktop bundle was built from, or None if it was not recorded."""
    try:
        info = json.loads((application_root() / "build_info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info.get("git_commit")


def software_environment(device: str) -> dict:
    """App version, git commit, Python/torch/numpy versions, platform and device."""
    return {
        "app_version": __version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "device": device,
    }


def runtime_settings(device) -> dict:
    """The settings that change float results: torch threads, deterministic mode, device.

    A re-run applies the same thread count (core/case/rerun.py): float32 sums
    split across a different number of threads round differently.
    """
    return {
        "threads": int(torch.get_num_threads()),
        "deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
        "device": str(device),
    }
