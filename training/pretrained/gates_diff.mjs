#!/usr/bin/env node
// How far the frame-gate maps of a model are from its exact maps: for each image, the target class's map
// with `--engine full` (every variant a whole forward pass) and with the model's own engine setting (for
// traffic-light-coco: the incremental engine with its squeeze-and-excitation gates held at the unoccluded
// frame's values). Prints one JSON line per image: the largest and the mean difference of a pixel, both
// minimum patches, and both times (of the sweep; the two sessions are opened once). Run from the
// repository root after `npm run build`:
//
//   node training/pretrained/gates_diff.mjs MODEL PATCH STRIDE IMAGE...
import { Session } from '../../dist/index.js';

const [model, patch, stride, ...images] = process.argv.slice(2);
if (!model || !Number(patch) || !Number(stride) || !images.length) {
  console.error('usage: node training/pretrained/gates_diff.mjs MODEL PATCH STRIDE IMAGE...');
  process.exit(2);
}
const sessions = { full: await Session.open({ model, engine: 'full' }), auto: await Session.open({ model, engine: 'auto' }) };
const run = async (engine, image) => {
  const t = performance.now();
  const r = await sessions[engine].occlude(image, { patch: Number(patch), stride: Number(stride) });
  return { r, s: (performance.now() - t) / 1000 };
};
for (const image of images) {
  const exact = await run('full', image);
  const gated = await run('auto', image);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < exact.r.map.length; i++) {
    const d = Math.abs(exact.r.map[i] - gated.r.map[i]);
    max = Math.max(max, d);
    sum += d;
  }
  const min = (r) => [r.minPatch.left, r.minPatch.top, Number(r.minProbability.toFixed(4))];
  console.log(JSON.stringify({
    image: image.split('/').pop(), class: exact.r.class, probability: Number(exact.r.probability.toFixed(4)),
    engine: gated.r.engine, gates: gated.r.gates ?? 'exact',
    maxDiff: Number(max.toFixed(4)), meanDiff: Number((sum / exact.r.map.length).toFixed(5)),
    minimumExact: min(exact.r), minimum: min(gated.r), secondsExact: Number(exact.s.toFixed(1)), seconds: Number(gated.s.toFixed(1)),
  }));
}
await sessions.full.close();
await sessions.auto.close();
