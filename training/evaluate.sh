#!/bin/sh
# Held-out evaluation of models/traffic-light (run from the repository root):
#   sh training/evaluate.sh          # MODEL=/tmp/run8 DATA=/tmp/occ3 evaluate another model / data folder
# 1000 frames from seed 777777 (never used for training or validation): accuracy, the pointing game
# (patch 32, stride 16; two shards in parallel, one thread each, then merged), the six real frames of
# ../shared/dashcam, and the TF.js check (tfjs-layers load, wasm + cpu parity with PyTorch, wasm
# single-frame latency). Then, as stress tests: accuracy on the same scenes with camera looks
# (synth --looks: clipped, desaturated, hue-shifted lamps), and the real frames of ../shared
# (reported only, never trained or tuned on: class and probability on realval and dashcam, and on
# realval's frames with boxes the pointing game of `occlude check`, patch 64, stride 32).
set -e
DATA=${DATA:-/tmp/occ-data}
SHARED=${SHARED:-../shared}
MODEL=${MODEL:-models/traffic-light}
npx tsc -p synth
node synth/dist/cli.js --count 1000 --seed 777777 --out "$DATA/test"
node synth/dist/cli.js --count 1000 --seed 777777 --looks --out "$DATA/test-looks"
/usr/bin/python3 training/evaluate.py --model "$MODEL" --data "$DATA/test" --no-pg \
  --real "$SHARED/dashcam" --dump-io "$DATA/io" --json "$DATA/eval-accuracy.json"
/usr/bin/python3 training/evaluate.py --model "$MODEL" --data "$DATA/test-looks" --no-pg --json "$DATA/eval-looks.json"
node training/check_tfjs.mjs "$MODEL" "$DATA/io/in.f32" "$DATA/io/out.f32" wasm
node training/check_tfjs.mjs "$MODEL" "$DATA/io/in.f32" "$DATA/io/out.f32" cpu
node training/real_frames.mjs "$MODEL" --shared "$SHARED" --json "$DATA/eval-real.json"
for k in 0 1; do
  /usr/bin/python3 training/evaluate.py --model "$MODEL" --data "$DATA/test" --shard $k/2 \
    --threads 1 --json "$DATA/eval-pg-$k.json" > "$DATA/eval-pg-$k.log" 2>&1 &
done
wait
/usr/bin/python3 training/evaluate.py --merge "$DATA/eval-pg-0.json" "$DATA/eval-pg-1.json" --json "$DATA/eval-test.json"
