import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Session } from '../../dist/index.js';
import { DASHCAM, REFERENCE, maxAbsDiff, readF32, reference, shared } from '../helpers.js';

/**
 * Golden tests: the maps of an independent PyTorch implementation of the original
 * procedure (nexar-squeezenet-a, patch 32, stride 16, grey 0.5).
 */
const ref = reference();
let session: Session;

beforeAll(async () => {
  session = await Session.open({ model: shared('seed-model', 'nexar-squeezenet-a'), workers: 2 });
});
afterAll(async () => {
  await session?.close();
});

describe('golden maps against ../shared/dashcam/reference', () => {
  it('has six reference frames', () => {
    expect(Object.keys(ref.frames).length).toBe(6);
    expect(ref.patch).toBe(32);
    expect(ref.stride).toBe(16);
  });

  for (const [name, frame] of Object.entries(ref.frames)) {
    it(`${name}: map within 1e-5, same minimum patch, same probabilities`, async () => {
      const r = await session.occlude(path.join(DASHCAM, name), { patch: 32, stride: 16 });
      expect(r.engine).toBe('incremental'); // what auto runs on the seed model
      expect(r.width).toBe(frame.width);
      expect(r.height).toBe(frame.height);
      expect(r.variants).toBe(frame.variants);
      expect(r.class).toBe(frame.class);
      const probs = frame.probabilities['nexar-squeezenet-a'];
      r.labels.forEach((l, i) => expect(Math.abs(r.probabilities[l] - probs[i])).toBeLessThan(1e-5));
      expect(maxAbsDiff(r.map, readF32(path.join(REFERENCE, frame.map_file)))).toBeLessThan(1e-5);
      const mp = frame.min_patch;
      const top = Math.max(mp.top, 0);
      const left = Math.max(mp.left, 0);
      expect(r.minPatch).toEqual({
        left,
        top,
        width: Math.min(mp.left + mp.size, frame.width) - left,
        height: Math.min(mp.top + mp.size, frame.height) - top,
      });
      expect(Math.abs(r.minProbability - frame.min_probability)).toBeLessThan(1e-5);
    });
  }

  it('keeps the tensor count flat across runs (main thread and workers)', async () => {
    const img = path.join(DASHCAM, Object.keys(ref.frames)[0]);
    await session.occlude(img, { patch: 128, stride: 128 });
    const before = await session.numTensors();
    await session.occlude(img, { patch: 128, stride: 128 });
    await session.predict(img);
    expect(await session.numTensors()).toEqual(before);
  });
});

