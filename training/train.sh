#!/bin/sh
# Rebuild models/traffic-light from scratch (run from the repository root):
#   sh training/train.sh            # DATA defaults to /tmp/occ-data (outside the repo)
set -e
DATA=${DATA:-/tmp/occ-data}
npx tsc -p synth
node synth/dist/cli.js --count 1000 --seed 2000 --out "$DATA/val"
node synth/dist/cli.js --count 20000 --seed 1000 --out "$DATA/train"
/usr/bin/python3 training/train.py --train "$DATA/train" --val "$DATA/val" --out models/traffic-light \
  --threads 1 --crop-epochs 16 --epochs 3 --bf16 --width 1.5
