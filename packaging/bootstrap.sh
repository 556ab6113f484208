#!/usr/bin/env bash
# Create .venv beside the repository and install Patchwise with pinned dependencies.
#   bash packaging/bootstrap.sh          runtime only
#   bash packaging/bootstrap.sh --dev    plus the test and lint tools
# Safe to re-run: an existing .venv is reused and only missing packages are installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"
# torch first, from the pinned CPU build: letting the resolver pick it alongside
# other packages risks a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}"
