#!/usr/bin/env bash
# The v2 levers of docs/architecture.md ("v2 levers"): each variant trains for the same wall-clock budget on
# train_v2 (one process, THREADS threads) and is scored on the first EXAMPLES examples of validation_v2, spread
# evenly. Results: runs/levers/<name>.json; table: python scripts/research/compare_table.py runs/levers
#   bash scripts/research/v2_levers.sh [MINUTES] [THREADS] [EXAMPLES] [NAMES...]
# The starting checkpoints (checkpoints/mist-v2-prior3, -gpu2) left the tree with the v2 lineage: restore them with
#   git checkout 5e31c91 -- checkpoints/mist-v2-prior3 checkpoints/mist-v2-gpu2
set -euo pipefail
MINUTES=${1:-10}; THREADS=${2:-1}; EXAMPLES=${3:-1000}; shift $(( $# > 3 ? 3 : $# ))
PY=${PYTHON:-python}
COMMON=(--train_split train_v2 --validation_split validation_v2 --validation_examples 64 --train_examples 100000000
        --max_n 5000 --large_n pooled --zero_point_mass true --symmetrize canonical --logging_steps 25)
# (a later flag wins: v2-average's --symmetrize average overrides the common canonical order)
# session 3: both continue from the reweighted-prior checkpoint; only the quadratic input differs
S3="--warm_start checkpoints/mist-v2-prior3 --sign_canonical true --head_statistics gaussian_copula knn --discrete_prior true --learning_rate 0.0002 --lr_scheduler_type cosine --fit_schedule_to_time true --train_start 700000000"
declare -A LEVER=(
  [v2-s3-base]="$S3"
  [v2-s3-quad]="${S3/knn/knn quadratic_copula}"
  [v2-base]="--warm_start mist-mi --sign_canonical true --head_statistics gaussian_copula --learning_rate 0.0005"
  [v2-no-classical]="--warm_start mist-mi --sign_canonical true --learning_rate 0.0005"
  [v2-no-signs]="--warm_start mist-mi --sign_canonical false --head_statistics gaussian_copula --learning_rate 0.0005"
  [v2-scratch]="--sign_canonical true --head_statistics gaussian_copula --learning_rate 0.001"
  [v2-large-scratch]="--sign_canonical true --head_statistics gaussian_copula --learning_rate 0.001 --hidden_size 128 --num_row_layers 3"
  [v2-average]="--warm_start mist-mi --sign_canonical true --head_statistics gaussian_copula --learning_rate 0.0005 --symmetrize average"
  [v2-small-n]="--warm_start mist-mi --sign_canonical true --head_statistics gaussian_copula --learning_rate 0.0005 --train_max_n 1000"
  # session 2: from the GPU run's model, on the prior with indep-iid, with and without the nearest-neighbour input;
  # a cosine schedule fitted to the time, so that each ends as a finished model
  [v2-gpu-iid]="--warm_start checkpoints/mist-v2-gpu2 --sign_canonical true --head_statistics gaussian_copula --learning_rate 0.0003 --lr_scheduler_type cosine --fit_schedule_to_time true --train_start 120000000"
  [v2-gpu-iid-knn]="--warm_start checkpoints/mist-v2-gpu2 --sign_canonical true --head_statistics gaussian_copula knn --learning_rate 0.0003 --lr_scheduler_type cosine --fit_schedule_to_time true --train_start 120000000"
)
NAMES=("$@"); [ ${#NAMES[@]} -gt 0 ] || NAMES=(v2-base v2-no-classical v2-no-signs v2-average v2-small-n v2-scratch v2-large-scratch)
for name in "${NAMES[@]}"; do
  [ -f "runs/levers/$name.json" ] && { echo "skip $name (done)"; continue; }
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=$THREADS HF_HUB_OFFLINE=1 $PY scripts/research/compare_architectures.py --name "$name" \
    --minutes "$MINUTES" --out runs/levers --splits validation_v2 --max-examples "$EXAMPLES" -- \
    "${COMMON[@]}" ${LEVER[$name]}
done
