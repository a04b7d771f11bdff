#!/usr/bin/env node
// The pointing game of evaluate.py, run through occlude itself, so that it works for any model occlude
// loads (GraphModels included): on generated frames with a light, occlude the frame (grey 0.5, patch
// PATCH, stride STRIDE) for its true class; a hit (`hit_any`) when a pixel attaining the map's minimum lies
// in a box around a light. Frames are taken in order, the first N with a light. --engine full gives the
// exact maps of a model that holds squeeze-and-excitation gates (traffic-light-coco); --frames FILE writes
// each frame's hit as a JSON line.
//
//   node training/pointing.mjs MODEL DATA_DIR [--n 100] [--patch 32] [--stride 16] [--workers 2] [--engine auto] [--frames FILE]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from '../dist/index.js';

const { values: o, positionals: [model, data] } = parseArgs({
  allowPositionals: true,
  options: { n: { type: 'string', default: '100' }, patch: { type: 'string', default: '32' }, stride: { type: 'string', default: '16' }, workers: { type: 'string', default: '2' }, engine: { type: 'string', default: 'auto' }, frames: { type: 'string' } },
});
const [n, patch, stride, workers] = [o.n, o.patch, o.stride, o.workers].map(Number);
if (!data) {
  console.error('usage: node training/pointing.mjs MODEL DATA_DIR [--n 100] [--patch 32] [--stride 16] [--workers 2] [--engine auto] [--frames FILE]');
  process.exit(2);
}
const cases = JSON.parse(readFileSync(join(data, 'manifest.json'), 'utf8')).cases.filter((c) => c.class !== 'none' && c.evidence?.length).slice(0, n);
// MODEL: a folder, or embedded / embedded:NAME, as --model takes it
const session = await Session.open({ model: model.startsWith('embedded') ? model : resolve(model), workers, engine: o.engine });
const perFrame = [];
const t0 = performance.now();
let hits = 0, right = 0;
try {
  for (const [k, c] of cases.entries()) {
    const r = await session.occlude(join(data, c.image), { class: c.class, patch, stride });
    let m = Infinity;
    for (const v of r.map) if (v < m) m = v;
    let hit = false;
    for (let i = 0; i < r.map.length && !hit; i++) {
      if (r.map[i] > m + 1e-12) continue;
      const y = Math.floor(i / r.width), x = i % r.width;
      hit = c.evidence.some((b) => y >= b.top && y < b.top + b.height && x >= b.left && x < b.left + b.width);
    }
    hits += hit;
    perFrame.push(JSON.stringify({ image: c.image, class: c.class, predicted: r.predicted.class, hit, minPatch: r.minPatch }));
    right += r.predicted.class === c.class;
    if ((k + 1) % 25 === 0) console.error(`  ${k + 1}/${cases.length}: hit_any ${(hits / (k + 1)).toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
} finally {
  await session.close();
  if (o.frames) writeFileSync(o.frames, perFrame.join('\n') + '\n');
}
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ model: session.modelLabel, engine: session.engineInfo.name, frames: cases.length, patch, stride,
  hit_any: hits / cases.length, class_right: right / cases.length, seconds: Number(s.toFixed(1)) }));
