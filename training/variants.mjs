#!/usr/bin/env node
// Every variant's raw output, as occlude scores it (issue #18, fifteenth session): for each frame of a list, the
// model's output on the unoccluded frame and on each patch of occlude's grid (grey 0.5, the list's patch and stride),
// written as OUT/NNNN.f32 (float32 rows of the model's outputs: the frame first, then the grid in occlude's order,
// row-major) and OUT/NNNN.json (the list's case, the frame's size, the grid). It wraps the scorer of an occlude
// Session, so the rows are the very numbers occlude accumulates into its maps (the same engine, frame gates and
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
import { planGrid, patchRect } from '../dist/plan/grid.js';

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
let recording = null;
const getScorer = session.getScorer.bind(session);
const wrapped = new WeakSet();
// Session has one scorer for its life; wrap its score() once, to keep a copy of every batch it returns
session.getScorer = async () => {
  const scorer = await getScorer();
  if (!wrapped.has(scorer)) {
    const score = scorer.score.bind(scorer);
    scorer.score = async (rects) => {
      const rows = await score(rects);
      recording?.push([rects, rows]);
      return rows;
    };
    wrapped.add(scorer);
  }
  return scorer;
};
const key = (r) => `${r.left},${r.top},${r.width},${r.height}`;
const t0 = performance.now();
try {
  for (let k = from; k < to; k++) {
    const c = spec.cases[k];
    recording = [];
    const label = session.labels[0];
    const r = await session.occlude(c.image, { class: label, patch: spec.patch, stride: spec.stride });
    const grid = planGrid(r.width, r.height, spec.patch, spec.stride);
    const n = r.labels.length;
    let frame = null;
    const byRect = new Map();
    for (const [rects, rows] of recording) {
      rects.forEach((q, i) => {
        const row = rows.slice(i * n, (i + 1) * n);
        if (q.width <= 0 || q.height <= 0) frame ??= row;
        else byRect.set(key(q), row);
      });
    }
    if (!frame) throw new Error(`${c.image}: the unoccluded frame was not scored`);
    const buf = new Float32Array((grid.count + 1) * n);
    buf.set(frame, 0);
    let skipped = 0;
    for (let i = 0; i < grid.count; i++) {
      const row = byRect.get(key(patchRect(grid, i)));
      if (!row) skipped++;
      buf.set(row ?? frame, (i + 1) * n);
    }
    const name = String(k).padStart(4, '0');
    writeFileSync(join(out, `${name}.f32`), Buffer.from(buf.buffer));
    writeFileSync(join(out, `${name}.json`), JSON.stringify({ ...c, width: r.width, height: r.height, patch: spec.patch, stride: spec.stride,
      labels: r.labels, count: grid.count, skipped, engine: r.engine, ...(r.gates ? { gates: r.gates } : {}) }));
    if ((k + 1 - from) % 10 === 0) console.error(`  ${k + 1 - from}/${to - from} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
} finally {
  await session.close();
}
console.log(JSON.stringify({ model: session.modelLabel, engine: session.engineInfo.name, frames: to - from, out, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) }));
