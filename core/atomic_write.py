"""Atomic file writes: a crash mid-write leaves the previous file intact.

The data goes to `.NAME.<random>.tmp` beside the target, is fsynced, and is
renamed over the target. The temp file is removed on every error path (a
`finally`, so KeyboardInterrupt too); temp files that a killed process left
behind are removed the next time the same target is written. A replaced file
keeps its permission bits (a new file gets the umask's default, not 0600).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path


def _remove_stale_temp_files(target: Path) -> None:
    """Delete `.NAME.*.tmp` files beside `target` (left by a killed write)."""
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        if stale.is_file() and not stale.is_symlink():
            stale.unlink(missing_ok=True)


def _mode_for(target: Path) -> int:
    """The replaced file's permission bits, else what a plain new file would get."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file beside `path`, fsync it, then rename it over `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(target)
    mode = _mode_for(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    renamed = False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        renamed = True
    finally:
        if not renamed:
            Path(tmp).unlink(missing_ok=True)


def write_json_atomically(path: str | os.PathLike, payload: dict) -> None:
    write_bytes_atomically(path, json.dumps(payload, indent=2).encode("utf-8"))
