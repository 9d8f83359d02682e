#!/usr/bin/env bash
# Train mist-mi v2 on one GPU in a single time-boxed run (configs/train_v2_gpu.yaml).
#
#   bash scripts/train_gpu_v2.sh [output_dir] [extra train.py arguments...]
#
# The config continues from the CPU run's best checkpoint, streams the v2 prior from 14 DataLoader workers, and fits
# the cosine learning-rate schedule to --max_minutes after measuring the speed. The best checkpoint on validation_v2
# lands in <output_dir>/final (validated at the end of the run); the log in <output_dir>/train.log. Set PYTHON to
# choose the interpreter. Checked by hand on the CPU at a tiny size before its GPU runs (batch 8, 2 workers,
# --validation_examples 40, --max_minutes 0.5); it is train.py with a config, which the test suite covers.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/mist-v2-gpu}
shift || true
mkdir -p "$out"
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
"${PYTHON:-python}" scripts/train.py configs/train_v2_gpu.yaml --output_dir "$out" "$@" 2>&1 | tee "$out/train.log"
