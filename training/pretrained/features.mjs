#!/usr/bin/env node
// Frozen backbone features of preprocessed generated frames, for head.py: reads a uint8 .npy cache
// [N, 256, 455, 3] (written by training/data.py) and writes, for rows [FROM, TO), OUT.0.f32 (the stride-8
// map) and OUT.1.f32 (the stride-16 map), float32 NHWC, plus OUT.json with their sizes.
//
//   node training/pretrained/features.mjs BACKBONE_DIR CACHE.npy OUT FROM TO
import { openSync, writeSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { artifacts, openNpy } from './io.mjs';

const [dir, cache, out, from, to] = process.argv.slice(2);
if (!to) {
  console.error('usage: node training/pretrained/features.mjs BACKBONE_DIR CACHE.npy OUT FROM TO');
  process.exit(2);
}
const FEATURES = ['tower_0/MobilenetV3/expanded_conv_5/add', 'tower_0/MobilenetV3/expanded_conv_11/add'];
await tf.setBackend('wasm');
await tf.ready();
const j = JSON.parse(readFileSync(join(dir, 'centernet.json'), 'utf8'));
for (const n of j.modelTopology.node) {
  if (n.op === 'Placeholder') n.attr.shape = { shape: { dim: [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }] } };
}
const model = await loadGraphModel({ load: async () => artifacts(j, dir) });

const npy = openNpy(cache);
const { N, H, W, C, frame } = npy;
const outs = FEATURES.map((_, k) => openSync(`${out}.${k}.f32`, 'w'));
const B = 8, buf = Buffer.alloc(frame * B);
let sizes = null;
for (let s = Number(from); s < Math.min(Number(to), N); s += B) {
  const n = Math.min(B, Number(to) - s, N - s);
  npy.read(s, n, buf);
  const x = tf.tensor4d(Float32Array.from(buf.subarray(0, frame * n)), [n, H, W, C]);
  const ys = model.execute(x, FEATURES);
  sizes = ys.map((y) => y.shape.slice(1, 3));
  for (let k = 0; k < ys.length; k++) {
    const d = await ys[k].data();
    writeSync(outs[k], Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  tf.dispose([x, ...ys]);
}
outs.forEach((o) => closeSync(o));
writeFileSync(`${out}.json`, JSON.stringify({ f8: sizes[0], f16: sizes[1] }));
