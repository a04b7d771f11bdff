// Load a TF.js LayersModel from disk with @tensorflow/tfjs-layers (as occlude does),
// compare its outputs with reference outputs (from PyTorch) and time single-frame inference.
//   node training/check_tfjs.mjs MODEL_DIR INPUT.f32 EXPECTED.f32 [wasm|cpu]
// INPUT.f32: float32 NHWC batch at the model's input size; EXPECTED.f32: float32 [N,3].
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';

const [dir, inFile, expFile, backend = 'wasm'] = process.argv.slice(2);
await tf.setBackend(backend);
await tf.ready();

const handler = {
  async load() {
    const mj = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    const bufs = [];
    for (const g of mj.weightsManifest) for (const p of g.paths) bufs.push(await readFile(join(dir, p)));
    const all = Buffer.concat(bufs);
    return {
      modelTopology: mj.modelTopology,
      format: mj.format,
      generatedBy: mj.generatedBy,
      convertedBy: mj.convertedBy,
      weightSpecs: mj.weightsManifest.flatMap((g) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    };
  },
};
const model = await tfl.loadLayersModel(handler);
const [, h, w, c] = model.inputs[0].shape;
const inBuf = await readFile(inFile);
const x = new Float32Array(inBuf.buffer.slice(inBuf.byteOffset, inBuf.byteOffset + inBuf.byteLength));
const n = x.length / (h * w * c);
const out = tf.tidy(() => model.predict(tf.tensor4d(x, [n, h, w, c])));
const got = await out.data();
out.dispose();
const expBuf = await readFile(expFile);
const exp = new Float32Array(expBuf.buffer.slice(expBuf.byteOffset, expBuf.byteOffset + expBuf.byteLength));
let maxDiff = 0;
for (let i = 0; i < exp.length; i++) maxDiff = Math.max(maxDiff, Math.abs(exp[i] - got[i]));
// latency: single frame
const one = tf.tensor4d(x.subarray(0, h * w * c), [1, h, w, c]);
for (let i = 0; i < 10; i++) tf.tidy(() => model.predict(one)).dataSync();
const times = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  const y = model.predict(one);
  y.dataSync();
  y.dispose();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ backend: tf.getBackend(), input: [h, w, c], frames: n, maxAbsDiff: maxDiff,
  msMedian: +times[25].toFixed(2), msMin: +times[0].toFixed(2), msP90: +times[45].toFixed(2), sample: Array.from(got.slice(0, 6)) }));
