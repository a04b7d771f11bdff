import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { bilinearAxis, affectedRange } from '../dist/image/resize.js';
import { Preprocessor } from '../dist/image/preprocess.js';
import { resolveInputSpec, validateMetadata } from '../dist/model/metadata.js';
import { cpuBackend, maxAbsDiff } from './helpers.js';

function random(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

beforeAll(async () => {
  await cpuBackend();
});

describe('bilinear resize', () => {
  it('matches tf.image.resizeBilinear(halfPixelCenters) when shrinking and enlarging, non-square', () => {
    for (const [ih, iw, oh, ow] of [
      [23, 41, 16, 20],
      [10, 7, 31, 19],
      [256, 455, 256, 256],
    ]) {
      const pixels = random(ih * iw * 3);
      const src = Float32Array.from(pixels, (v) => v / 255);
      // the preprocessor's resize (its bilinear tables), with no crop and no normalisation
      const spec = { height: oh, width: ow, channels: 3, resize: null, crop: 'none' as const, range: [0, 1] as [number, number], mean: null, std: null, order: 'rgb' as const };
      const pre = new Preprocessor(iw, ih, spec);
      const ours = new Float32Array(pre.size);
      pre.render({ width: iw, height: ih, data: pixels, fill: { kind: 'constant', rgb: [0, 0, 0] }, occluders: [] }, ours, 0);
      const theirs = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(src, [1, ih, iw, 3]), [oh, ow], false, true).dataSync());
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
    }
  });

  it('finds exactly the outputs that read a source range', () => {
    const t = bilinearAxis(455, 256, 14, 227);
    for (const [s, e] of [
      [0, 1],
      [0, 25],
      [100, 132],
      [430, 455],
    ]) {
      const r = affectedRange(t, s, e);
      const brute: number[] = [];
      for (let k = 0; k < 227; k++) if ((t.lo[k] >= s && t.lo[k] < e) || (t.hi[k] >= s && t.hi[k] < e)) brute.push(k);
      if (!brute.length) expect(r).toBeNull();
      else expect(r).toEqual([brute[0], brute[brute.length - 1] + 1]);
    }
  });
});

describe('preprocessing', () => {
  const spec = resolveInputSpec({ height: 24, width: 32, channels: 3 }, validateMetadata({ input: { resize: [30, 40], crop: 'center', range: [-1, 1], channels: 'bgr' } }));

  it('equals resize + centre crop + range + channel order done with tensor ops', () => {
    const w = 57;
    const h = 33;
    const data = random(w * h * 3, 7);
    const pre = new Preprocessor(w, h, spec);
    const out = new Float32Array(pre.size);
    pre.render({ width: w, height: h, data, fill: { kind: 'constant', rgb: [0.5, 0.5, 0.5] }, occluders: [] }, out, 0);
    const theirs = tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(Float32Array.from(data, (v) => v / 255), [1, h, w, 3]);
      x = tf.image.resizeBilinear(x, [30, 40], false, true);
      x = tf.slice(x, [0, 3, 4, 0], [1, 24, 32, 3]);
      x = tf.reverse(x, -1);
      return tf.sub(tf.mul(x, 2), 1).dataSync();
    });
    expect(maxAbsDiff(out, theirs)).toBeLessThan(1e-5);
  });

  it('rebuilds a variant exactly from its affected region only', () => {
    const w = 57;
    const h = 33;
    const data = random(w * h * 3, 3);
    const pre = new Preprocessor(w, h, spec);
    const fill = { kind: 'constant' as const, rgb: [0.5, 0.2, 0.9] as [number, number, number] };
    const base = new Float32Array(pre.size);
    pre.render({ width: w, height: h, data, fill, occluders: [] }, base, 0);
    for (const rect of [
      { left: 0, top: 0, width: 5, height: 4 },
      { left: 20, top: 10, width: 9, height: 9 },
      { left: 50, top: 28, width: 7, height: 5 },
    ]) {
      const view = { width: w, height: h, data, fill, occluders: [rect] };
      const full = new Float32Array(pre.size);
      pre.render(view, full, 0);
      const fast = Float32Array.from(base);
      const region = pre.affected(rect);
      if (region) pre.render(view, fast, 0, region);
      expect(maxAbsDiff(full, fast)).toBe(0);
    }
  });

  it('reports patches the centre crop hides as invisible', () => {
    const pre = new Preprocessor(455, 256, resolveInputSpec({ height: 227, width: 227, channels: 3 }, validateMetadata({ input: { resize: [256, 256], crop: 'center' } })));
    expect(pre.affected({ left: 0, top: 0, width: 17, height: 17 })).toBeNull();
    expect(pre.affected({ left: 200, top: 100, width: 32, height: 32 })).not.toBeNull();
  });
});
