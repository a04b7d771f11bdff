#!/usr/bin/env node
// Every variant's raw output, as occlude scores it (issue #18, fifteenth session): for each frame of a list, the
// model's output on the unoccluded frame and on each patch of occlude's grid (grey 0.5, the list's patch and stride),
// written as OUT/NNNN.f32 (float32 rows of the model's outputs: the frame first, then the grid in occlude's order,
// row-major) and OUT/NNNN.json (the list's case, the frame's size, the grid). The rows come from Session.occlude's
// onOutputs, so they are the very numbers occlude accumulates into its maps (the same engine, frame gates and
// batches); a patch occlude skips because it cannot change the model's input gets the frame's row, as occlude gives it.
// With a training/branches.py graph, training/combine.py then computes the map of any combiner of its branches.
//
//   node training/variants.mjs MODEL LIST.json OUT [--workers 2] [--range A:B]
//
// LIST.json: {"patch": P, "stride": S, "cases": [{"image": PATH, ...}, ...]} (a realval-style manifest, with paths).
// --range A:B: only cases A to B - 1, their files still numbered by their place in the list (so that runs over
// parts of a list, one after the other, fill one OUT).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from '../dist/index.js';

const { values: o, positionals: [model, list, out] } = parseArgs({ allowPositionals: true, options: { workers: { type: 'string', default: '2' }, range: { type: 'string' } } });
if (!out) {
  console.error('usage: node training/variants.mjs MODEL LIST.json OUT [--workers 2] [--range A:B]');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(list, 'utf8'));
if (!(spec.patch > 0 && spec.stride > 0 && Array.isArray(spec.cases))) throw new Error(`${list}: expected {patch, stride, cases}`);
const [from, to] = o.range ? o.range.split(':').map(Number) : [0, spec.cases.length];
if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= spec.cases.length)) {
  throw new Error(`--range ${o.range}: expected A:B with 0 <= A < B <= ${spec.cases.length}`);
}
mkdirSync(out, { recursive: true });
const session = await Session.open({ model: resolve(model), workers: Number(o.workers) });
const t0 = performance.now();
try {
  for (let k = from; k < to; k++) {
    const c = spec.cases[k];
    const n = session.labels.length;
    // Session.occlude's onOutputs: the frame's row (index -1), then each patch's in grid order, the very numbers
    // its maps are made of
    const buf = [];
    const keep = (i, row) => buf.push([i, Float32Array.from(row)]);
    const r = await session.occlude(c.image, { class: session.labels[0], patch: spec.patch, stride: spec.stride, onOutputs: keep });
    const count = r.variants; // one pass: the patches of occlude's grid
    if (buf.length !== count + 1 || buf.some(([i], j) => i !== j - 1)) throw new Error(`${c.image}: not one row per variant, in order`);
    const rows = new Float32Array((count + 1) * n);
    buf.forEach(([, row], j) => rows.set(row, j * n));
    const skipped = count - r.evaluated;
    const name = String(k).padStart(4, '0');
    writeFileSync(join(out, `${name}.f32`), Buffer.from(rows.buffer));
    writeFileSync(join(out, `${name}.json`), JSON.stringify({ ...c, width: r.width, height: r.height, patch: spec.patch, stride: spec.stride,
      labels: r.labels, count, skipped, engine: r.engine, ...(r.gates ? { gates: r.gates } : {}) }));
    if ((k + 1 - from) % 10 === 0) console.error(`  ${k + 1 - from}/${to - from} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
} finally {
  await session.close();
}
console.log(JSON.stringify({ model: session.modelLabel, engine: session.engineInfo.name, frames: to - from, out, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) }));
