#!/bin/bash
# occlude on Slurm: a job array of 8 tasks, one shard each.
#   jid=$(sbatch --parsable docs/scale/slurm.sh)
#   sbatch --dependency=afterok:$jid --wrap "npx occlude merge results/shard-* --out results/merged --report results/merged/index.html"
#SBATCH --job-name=occlude
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --output=logs/occlude-%A_%a.out
set -euo pipefail
# --shard auto reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT
npx occlude "${FRAMES:-/data/frames}" --recursive --class red --patch 64 --stride 32 \
  --shard auto --out "results/shard-${SLURM_ARRAY_TASK_ID}" --resume --quiet
