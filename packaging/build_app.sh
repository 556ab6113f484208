#!/usr/bin/env bash
# Build the one-folder desktop app with PyInstaller (docs/packaging.md).
#   bash packaging/build_app.sh            -> dist/patchwise/ (run dist/patchwise/patchwise)
# PYTHON=/path/to/venv/bin/python picks the build venv (default: .venv beside the repo,
# set up by packaging/bootstrap.sh). DIST_DIR and WORK_DIR move the output and the cache.
# The venv must hold Patchwise's runtime dependencies and the CPU build of torch.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
dist="${DIST_DIR:-$root/dist}"
work="${WORK_DIR:-$root/build/pyinstaller}"
if [ ! -x "$python" ]; then
  echo "error: no build Python at $python (run packaging/bootstrap.sh, or set PYTHON)" >&2
  exit 2
fi
"$python" -m pip install --quiet --disable-pip-version-check -r packaging/requirements-build.txt
# A CUDA torch would put several GB of GPU libraries into a CPU bundle: refuse it.
"$python" -c 'import sys, torch; sys.exit(0 if torch.version.cuda is None else
  "error: the build venv has a CUDA build of torch; the bundle wants the CPU build")'
start=$(date +%s)
PYTHONPATH="$root" "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" packaging/patchwise.spec
# The bundled executable writes the notices from the metadata it carries: this also
# checks that the bundle starts and reads the metadata copied into it.
notices="$dist/patchwise/THIRD_PARTY_NOTICES.txt"
"$dist/patchwise/patchwise" notices --out "$notices"
[ -d "$dist/Patchwise.app" ] && cp "$notices" "$dist/Patchwise.app/Contents/Resources/"
echo "built $dist/patchwise in $(( $(date +%s) - start )) s, $(du -sh "$dist/patchwise" | cut -f1)"
