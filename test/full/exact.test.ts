import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Session } from '../../dist/index.js';
import { DASHCAM, maxAbsDiff, shared } from '../helpers.js';

/**
 * The fast paths (variants built at model resolution, invisible ones skipped; full forward passes
 * or the incremental engine) against the straightforward procedure.
 */
const FRAME = 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg';
let fast: Session;
let fullEngine: Session;
let exact: Session;

beforeAll(async () => {
  const model = shared('seed-model', 'nexar-squeezenet-a');
  fast = await Session.open({ model, workers: 2 });
  fullEngine = await Session.open({ model, workers: 2, engine: 'full' });
  exact = await Session.open({ model, exactReference: true });
});
afterAll(async () => {
  await fast?.close();
  await fullEngine?.close();
  await exact?.close();
});

describe('fast paths equal --exact-reference within 1e-4', () => {
  it('auto runs the incremental engine on the seed model; --exact-reference names itself', () => {
    expect(fast.engine).toBe('incremental');
    expect(exact.engine).toBe('reference');
  });
  for (const [fill, engine] of [[0.5, 'incremental'], [0.5, 'full'], ['mean', 'incremental'], ['blur', 'incremental'], ['#ff0000', 'full']] as const) {
    const iterate = fill === 0.5 ? 2 : 1;
    it(`${engine} engine, fill ${fill}, patch 96 / stride 48, --iterate ${iterate}`, async () => {
      const o = { patch: 96, stride: 48, fill, iterate };
      const a = await (engine === 'full' ? fullEngine : fast).occlude(path.join(DASHCAM, FRAME), o);
      expect(a.engine).toBe(engine);
      const b = await exact.occlude(path.join(DASHCAM, FRAME), o);
      expect(a.variants).toBe(b.variants);
      expect(b.evaluated).toBe(b.variants); // the reference runs every variant
      expect(a.evaluated).toBeLessThan(a.variants); // the fast path skips what the crop hides
      expect(maxAbsDiff(a.map, b.map)).toBeLessThan(1e-4);
      expect(a.minPatch).toEqual(b.minPatch);
      expect(a.iterations?.map((p) => p.minPatch)).toEqual(b.iterations?.map((p) => p.minPatch));
      expect(Math.abs(a.minProbability - b.minProbability)).toBeLessThan(1e-4);
    });
  }
});

describe('--iterate (the write-up\'s second example)', () => {
  it('finds a second, different minimum once the first is greyed out', async () => {
    const r = await fast.occlude(path.join(DASHCAM, FRAME), { patch: 32, stride: 16, iterate: 2 });
    const [p1, p2] = r.iterations!;
    expect(p2.minPatch).not.toEqual(p1.minPatch);
    // the first patch held the light: with it greyed out the class probability collapses
    expect(p2.probability).toBeLessThan(p1.probability);
    expect(p2.probability).toBeCloseTo(p1.minProbability, 4);
    expect(r.variants).toBe(2 * 558);
  });
});

describe('--mode drop', () => {
  it('is the baseline probability minus the mean map', async () => {
    const o = { patch: 128, stride: 64 };
    const prob = await fast.occlude(path.join(DASHCAM, FRAME), o);
    const drop = await fast.occlude(path.join(DASHCAM, FRAME), { ...o, mode: 'drop' as const });
    const expected = prob.map.map((v) => prob.probability - v);
    expect(maxAbsDiff(drop.map, expected)).toBeLessThan(1e-6);
  });
});
