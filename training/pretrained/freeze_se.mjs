#!/usr/bin/env node
// Freeze the squeeze-and-excitation gates of a traffic-light-coco GraphModel at their mean over generated
// frames (a measurement for #18: with constant gates the backbone is local, the condition for the
// incremental engine). Reads MODEL_DIR (model.json + weights.bin), runs the first N frames of a uint8 .npy
// cache (training/data.py) to average each block's gate, prints how much the gates vary (over those frames
// and over the real frames of SHARED, read for reporting only), and writes OUT_DIR: the same graph where
// each block's `squeeze_excite/mul` multiplies by a constant instead of the frame's gate.
//
//   node training/pretrained/freeze_se.mjs MODEL_DIR CACHE.npy N OUT_DIR [SHARED]
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import sharp from 'sharp';
import { artifacts, openNpy } from './io.mjs';

const [dir, cache, count, out, shared] = process.argv.slice(2);
if (!out) {
  console.error('usage: node training/pretrained/freeze_se.mjs MODEL_DIR CACHE.npy N OUT_DIR [SHARED]');
  process.exit(2);
}
await tf.setBackend('wasm');
await tf.ready();
const j = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
const bin = readFileSync(join(dir, 'weights.bin'));
const model = await loadGraphModel({ load: async () => artifacts(j, dir) });
const gates = j.modelTopology.node.filter((n) => n.name.endsWith('/squeeze_excite/Conv_1/mul')).map((n) => n.name);
const block = (name) => name.split('/')[2];

// per block: sum and sum of squares of each channel's gate over the frames
const stats = (frames) => {
  const sum = gates.map(() => null), sq = gates.map(() => null);
  return {
    add(values) {
      values.forEach((v, k) => {
        sum[k] ??= new Float64Array(v.length);
        sq[k] ??= new Float64Array(v.length);
        for (let c = 0; c < v.length; c++) { sum[k][c] += v[c]; sq[k][c] += v[c] * v[c]; }
      });
    },
    mean: (k) => sum[k].map((s) => s / frames()),
    sd: (k) => sq[k].map((s, c) => Math.sqrt(Math.max(0, s / frames() - (sum[k][c] / frames()) ** 2))),
  };
};
const run = async (x) => {
  const ys = model.execute(x, gates);
  const v = await Promise.all(ys.map((y) => y.data()));
  tf.dispose([x, ...ys]);
  return v;
};

const npy = openNpy(cache);
const { N, H, W, C } = npy;
const n = Math.min(Number(count), N);
let seen = 0;
const gen = stats(() => seen);
const buf = Buffer.alloc(npy.frame);
for (let i = 0; i < n; i++) {
  npy.read(i, 1, buf);
  gen.add(await run(tf.tensor4d(Float32Array.from(buf), [1, H, W, C])));
  seen++;
}
const avg = (a) => a.reduce((s, v) => s + v, 0) / a.length;
console.log(`gates of ${gates.length} blocks over ${n} generated frames: mean over channels of the per-channel sd (and of the mean gate)`);
for (let k = 0; k < gates.length; k++) console.log(`  ${block(gates[k])}: sd ${avg(gen.sd(k)).toFixed(4)}, mean ${avg(gen.mean(k)).toFixed(4)}`);

if (shared) {
  // real frames: fit width 455 as occlude does (sharp's resize), range 0-255; the gap between their gates and the generated mean
  const files = ['realval', 'dashcam'].flatMap((s) => readdirSync(join(shared, s)).filter((f) => f.endsWith('.jpg')).map((f) => join(shared, s, f)));
  let r = 0;
  const real = stats(() => r);
  const gap = gates.map(() => 0);
  for (const f of files) {
    const { data, info } = await sharp(f).removeAlpha().resize({ width: 455 }).raw().toBuffer({ resolveWithObject: true });
    const v = await run(tf.tensor4d(Float32Array.from(data), [1, info.height, info.width, 3]));
    real.add(v);
    v.forEach((g, k) => { const m = gen.mean(k); gap[k] += avg(Array.from(g, (x, c) => Math.abs(x - m[c]))); });
    r++;
  }
  console.log(`over ${r} real frames: per-channel sd, and the mean absolute gap to the generated frames' mean gate`);
  for (let k = 0; k < gates.length; k++) console.log(`  ${block(gates[k])}: sd ${avg(real.sd(k)).toFixed(4)}, gap ${(gap[k] / r).toFixed(4)}`);
}

// the frozen graph: each squeeze_excite/mul reads a constant [1, 1, 1, C] instead of the gate
mkdirSync(out, { recursive: true });
const extra = [];
const weights = j.weightsManifest[0].weights;
for (let k = 0; k < gates.length; k++) {
  const name = gates[k] + '/frozen';
  const mean = Float32Array.from(gen.mean(k));
  j.modelTopology.node.push({ name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT',
    tensorShape: { dim: [{ size: '1' }, { size: '1' }, { size: '1' }, { size: String(mean.length) }] } } } } });
  weights.push({ name, shape: [1, 1, 1, mean.length], dtype: 'float32' });
  extra.push(Buffer.from(mean.buffer));
  const mul = j.modelTopology.node.find((nd) => nd.name === gates[k].replace('/Conv_1/mul', '/mul'));
  mul.input = mul.input.map((i) => (i === gates[k] ? name : i));
}
writeFileSync(join(out, 'weights.bin'), Buffer.concat([bin, ...extra]));
writeFileSync(join(out, 'model.json'), JSON.stringify(j));
copyFileSync(join(dir, 'occlude.json'), join(out, 'occlude.json'));
console.log(`wrote ${out}: ${gates.length} gates frozen`);
