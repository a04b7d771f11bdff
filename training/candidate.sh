#!/bin/sh
# Rebuild issue #18's best candidate so far, C2 + A1 (fifteenth session; not shipped), from nothing but this
# repository and the npm registry (run from the repository root):
#   sh training/candidate.sh       # DATA=/tmp/occ-cand OUT=$DATA/model
# 1. the frames: 20000 training frames with the bonnet drawn (seed 1000, --bonnet; A uses the first 10000) and the
#    plain validation frames (seed 2000)
# 2. C2: the default model's recipe (train.sh) on the --bonnet frames; and, beside it, A: traffic-light-coco's recipe
#    (pretrained/train.sh) on the first 10000 of them. The two trainings run side by side (OMP_WAIT_POLICY=PASSIVE:
#    A's two OpenMP threads then do not spin on the core C2 holds)
# 3. A1: A with each head's `none` bias lowered by 1.0 (prior.py write; the twelfth session's d)
# 4. C2 and A1 joined by a combiner fitted on the plain and --looks validation frames (stack.sh), as one LayersModel
# Measure it with `node training/real_frames.mjs $OUT --shared ../shared` and `sh training/evaluate.sh`-like runs
# (README, "Evaluate").
set -e
DATA=${DATA:-/tmp/occ-cand}
OUT=${OUT:-$DATA/model}
npx tsc -p synth
[ -f "$DATA/val/manifest.json" ] || node synth/dist/cli.js --count 1000 --seed 2000 --out "$DATA/val"
[ -f "$DATA/train/manifest.json" ] || node synth/dist/cli.js --count 20000 --seed 1000 --bonnet --out "$DATA/train"
/usr/bin/python3 training/train.py --train "$DATA/train" --val "$DATA/val" --out "$DATA/C2" \
  --threads 1 --crop-epochs 16 --epochs 3 --bf16 --width 1.5 > "$DATA/C2.log" 2>&1 &
C2=$!
OMP_WAIT_POLICY=PASSIVE DATA="$DATA" WORK="$DATA/coco" OUT="$DATA/A" sh training/pretrained/train.sh > "$DATA/A.log" 2>&1
wait $C2 || { echo "C2's training failed: $DATA/C2.log"; exit 1; }
/usr/bin/python3 training/prior.py write "$DATA/A" "$DATA/A1" 1.0
A="$DATA/C2" B="$DATA/A1" DATA="$DATA/stack" OUT="$OUT" sh training/stack.sh
