import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Session, EMBEDDED_MODEL } from '../dist/index.js';
import { mapRange } from '../dist/heatmap/accumulate.js';
import { generateFrame } from '../synth/render.js';
import { evidenceOf } from '../synth/manifest.js';
import { minimumInBoxes } from '../dist/report/check.js';
import { tmpdir } from './helpers.js';

/**
 * The embedded traffic-light model on frames it never saw (generator seed 555555,
 * used neither for training, validation nor the 1000-frame evaluation): accuracy,
 * and the pointing game (the minimum of the target-class map, patch 32 / stride 16,
 * falls inside a box of a light of that class), by the same rule as `occlude check`.
 */
const SEED = 555555;
const ACCURACY = 0.9;
const POINTING = 0.85;
const COUNT = 30;
const frames: { file: string; cls: string; evidence: { left: number; top: number; width: number; height: number }[] }[] = [];
let session: Session;

beforeAll(async () => {
  if (!existsSync(path.join(EMBEDDED_MODEL, 'model.json'))) throw new Error(`the embedded model is missing: ${EMBEDDED_MODEL}`);
  const dir = tmpdir('occlude-embedded-');
  for (let i = 0; i < COUNT; i++) {
    const { jpeg, scene } = await generateFrame(SEED, i, { width: 455, height: 256 });
    const file = path.join(dir, `${i}.jpg`);
    writeFileSync(file, jpeg);
    frames.push({ file, cls: scene.cls, evidence: evidenceOf(scene.cls, scene.lights) });
  }
  session = await Session.open({ workers: 2 });
});
afterAll(async () => {
  await session?.close();
});

describe('embedded model on unseen generated frames', () => {
  it('is small (< 2 MB) and loads as a LayersModel with the traffic-light labels', () => {
    const bytes = readdirSync(EMBEDDED_MODEL).reduce((n, f) => n + statSync(path.join(EMBEDDED_MODEL, f)).size, 0);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
    expect(session.model.kind).toBe('layers-model');
    expect(session.labels).toEqual(['none', 'red', 'green']);
  });

  it(`classifies at least ${ACCURACY * 100}% of ${COUNT} frames correctly`, async () => {
    let right = 0;
    for (const f of frames) if ((await session.predict(f.file)).class === f.cls) right++;
    const accuracy = right / frames.length;
    console.log(`embedded model: accuracy ${right}/${frames.length} = ${(accuracy * 100).toFixed(1)}%`);
    expect(accuracy).toBeGreaterThanOrEqual(ACCURACY);
  });

  it(`points into a light's box on at least ${POINTING * 100}% of the frames with lights (patch 32, stride 16)`, async () => {
    let hits = 0;
    const lit = frames.filter((f) => f.cls !== 'none');
    for (const f of lit) {
      const r = await session.occlude(f.file, { class: f.cls, patch: 32, stride: 16 });
      if (minimumInBoxes(r.map, r.width, r.height, mapRange(r.map).min, f.evidence)) hits++;
    }
    const score = hits / lit.length;
    console.log(`embedded model: pointing game ${hits}/${lit.length} = ${(score * 100).toFixed(1)}%`);
    expect(lit.length).toBeGreaterThan(COUNT / 2);
    expect(score).toBeGreaterThanOrEqual(POINTING);
  });
});
