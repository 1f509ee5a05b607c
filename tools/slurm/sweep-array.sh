#!/bin/bash
# sweep-array.sh: one sweep as a Slurm job array, one shard per task (README "A fleet").
#   sbatch tools/slurm/sweep-array.sh             # then moetune merge the parts
# One whole node per shard, so that nothing else shares its memory bandwidth, all of one kind.
# Every #SBATCH line can be overridden on sbatch's command line (e.g. --array=0-15 for 16
# shards, --constraint=... for another kind of node); the environment chooses the rest:
#   MOETUNE_BIN    the moetune binary (default build/moetune)
#   MOETUNE_SWEEP  the sweep file (default sweeps/qwen3-30b-a3b.yaml)
#   MOETUNE_PARTS  where the parts go (default parts/), named <sweep>.<task>.json
#SBATCH --job-name=moetune-sweep
#SBATCH --array=0-7
#SBATCH --nodes=1
#SBATCH --exclusive
#SBATCH --constraint=sapphirerapids
#SBATCH --requeue
#SBATCH --output=logs/%A_%a.out
set -euo pipefail
bin=${MOETUNE_BIN:-build/moetune}
sweep=${MOETUNE_SWEEP:-sweeps/qwen3-30b-a3b.yaml}
parts=${MOETUNE_PARTS:-parts}
N=$((SLURM_ARRAY_TASK_MAX + 1))
mkdir -p "$parts"
# --resume: a requeued task finishes its journal instead of starting over.
"$bin" sweep "$sweep" --shard "${SLURM_ARRAY_TASK_ID}/${N}" \
  -o "${parts}/$(basename "$sweep" .yaml).${SLURM_ARRAY_TASK_ID}.json" --resume --no-progress
