#!/usr/bin/env bash
# Train the default MIST on one H100-class GPU within about 12 minutes, then evaluate it on validation.
#
#   bash scripts/train_gpu.sh [output_dir] [extra train.py arguments...]
#
# Large batches keep the GPU busy; 12 DataLoader workers generate data (about 5,000 datasets/s each on a CPU
# core). Training stops after 11 minutes of wall time with a checkpoint and the best-on-validation model in
# <output_dir>/final. It was run on the CPU at a tiny size (tests/scripts/test_train.py); settings for a real GPU
# run: the learning rate is scaled for batch 256. Set PYTHON to choose the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/gpu}
shift || true
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 OMP_NUM_THREADS=1
"${PYTHON:-python}" scripts/train.py \
  --output_dir "$out" \
  --per_device_train_batch_size 256 \
  --per_device_eval_batch_size 256 \
  --learning_rate 2e-3 \
  --warmup_steps 300 \
  --max_steps 20000 \
  --max_minutes 11 \
  --eval_steps 500 \
  --save_steps 500 \
  --logging_steps 50 \
  --dataloader_num_workers 12 \
  --disable_tqdm true \
  "$@"
