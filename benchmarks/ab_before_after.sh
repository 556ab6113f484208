#!/bin/bash
# Before/after of bench_explainers.py in one run: revision REV (default: main) and the
# working tree take turns, model by model, for ROUNDS rounds, so a changing machine load
# hits both sides alike. Each side exports its own ONNX files into its own cache folder.
#
#   bash benchmarks/ab_before_after.sh [REV] [ROUNDS]
#
# Needs the shared photos at ../shared (or set PAIR_DIR) and python on PATH (or PY).
set -euo pipefail
rev=${1:-main}
rounds=${2:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-python}
pair=${PAIR_DIR:-$here/../shared/data/faces/identities/obama}
work=$(mktemp -d /tmp/patchwise-ab-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/before"
git -C "$here" archive "$rev" | tar -x -C "$work/before"
for round in $(seq "$rounds"); do
  for spec in "mobileface torch,onnx xmap,corrrise" "dlib-resnet torch,onnx corrrise" \
              "faceres onnx xmap,corrrise"; do
    read -r model runtimes methods <<< "$spec"
    for side in before after; do
      dir=$work/before
      if [ "$side" = after ]; then dir=$here; fi
      echo "=== round $round $side ($rev) $model $(date -u +%T) $(uptime | sed 's/.*load/load/')"
      (cd "$dir" && PATCHWISE_CACHE_DIR=$work/cache-$side PYTHONPATH=$dir "$py" -W ignore \
        benchmarks/bench_explainers.py --a "$pair/obama_1.jpg" --b "$pair/obama_2.jpg" \
        --models "$model" --runtimes "$runtimes" --methods "$methods")
    done
  done
done
echo "=== done $(date -u +%T) $(uptime | sed 's/.*load/load/')"
