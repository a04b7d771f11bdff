#!/bin/sh
# Two models joined by a combiner fitted on generated validation frames (training/stack.py; issue #18, fourteenth
# session). Run from the repository root:
#   sh training/stack.sh       # A=models/traffic-light B=models/traffic-light-coco DATA=/tmp/occ-stack OUT=/tmp/occ-stack/model
# 1. the validation frames: the plain ones (seed 2000) and the same scenes drawn with --looks (pale, hue-shifted lamps)
# 2. both models' probabilities on them (occlude predict)
# 3. the combiner fitted on them (stack.py fit), and the two models and the combiner written as one LayersModel
set -e
A=${A:-models/traffic-light}
B=${B:-models/traffic-light-coco}
DATA=${DATA:-/tmp/occ-stack}
OUT=${OUT:-$DATA/model}
npx tsc -p synth
[ -f "$DATA/val/manifest.json" ] || node synth/dist/cli.js --count 1000 --seed 2000 --out "$DATA/val"
[ -f "$DATA/val-looks/manifest.json" ] || node synth/dist/cli.js --count 1000 --seed 2000 --looks --out "$DATA/val-looks"
for s in val val-looks; do
  node bin/occlude.js predict "$DATA/$s" --model "$A" --json > "$DATA/A-$s.jsonl"
  node bin/occlude.js predict "$DATA/$s" --model "$B" --json > "$DATA/B-$s.jsonl"
done
/usr/bin/python3 training/stack.py fit --out "$DATA/stack.json" \
  --fit "val=$DATA/A-val.jsonl,$DATA/B-val.jsonl" --fit "looks=$DATA/A-val-looks.jsonl,$DATA/B-val-looks.jsonl"
/usr/bin/python3 training/stack.py write "$A" "$B" "$DATA/stack.json" "$OUT"
