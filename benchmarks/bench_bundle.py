"""Size and start-up time of the desktop bundle (packaging/build_app.sh), against source.

    .venv/bin/python benchmarks/bench_bundle.py [--bundle dist/patchwise] [--repeat 3]

Prints the bundle's size with its ten largest top-level parts, then the wall time of
three commands run through the bundled executable and through `python main.py`:
`--version` (start and parse), `models` (plus loading every bundled weights file) and
`gui --quit-after-ready` with no photos (offscreen; until the empty window is shown).
The first bundled run is reported apart as the cold start (the first run after a build
or a reboot; on a machine where the files are already in the page cache it is warm).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "--version": ["--version"],
    "models": ["models"],
    "gui (empty window)": ["gui", "--quit-after-ready"],
}


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def print_size(bundle: Path) -> None:
    total = folder_size(bundle)
    print(f"bundle {bundle}: {total / 2**20:.0f} MiB")
    internal = bundle / "_internal"
    parts = [
        (folder_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in internal.iterdir()
    ]
    for size, name in sorted(parts, reverse=True)[:10]:
        print(f"  {size / 2**20:8.1f} MiB  _internal/{name}")


def timed(argv: list[str], env: dict, cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=str(REPO / "dist" / "patchwise"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bundle = Path(args.bundle).resolve()
    print_size(bundle)
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=home, XDG_RUNTIME_DIR=home)
        env.pop("PYTHONPATH", None)
        launchers = {
            "bundle": [str(bundle / "patchwise")],
            "source": [sys.executable, str(REPO / "main.py")],
        }
        print(f"\nwall time in s, {os.cpu_count()} cores; median of {args.repeat} warm runs")
        for name, command in COMMANDS.items():
            for kind, launcher in launchers.items():
                source_env = dict(env, PYTHONPATH=str(REPO)) if kind == "source" else env
                first = timed(launcher + command, source_env, home)
                warm = [timed(launcher + command, source_env, home) for _ in range(args.repeat)]
                print(
                    f"  {name:20s} {kind:6s} first {first:6.2f}  "
                    f"warm {statistics.median(warm):6.2f}"
                )


if __name__ == "__main__":
    main()
