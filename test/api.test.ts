import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { Session, EMBEDDED_MODEL, OccludeError, renderOverlay, saveOverlay } from '../dist/index.js';
import { planGrid, patchRect } from '../dist/plan/grid.js';
import { maxAbsDiff, ROOT, tmpdir } from './helpers.js';

/**
 * The library as an app that already has tfjs uses it: the model as a path, an IOHandler, or a
 * LayersModel it loaded itself (the same tfjs engine: occlude's tfjs packages are peer dependencies);
 * the image as a path, a Buffer or decoded pixels.
 */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
const O = { class: 'red', patch: 64, stride: 32 };
let artifacts: tf.io.ModelArtifacts;
// the embedded model's input height is free (any aspect ratio): a model without its occlude.json needs its preprocessing given
const EMBEDDED_INPUT = { size: [256, 455] as [number, number], fit: 'width' as const };
let byPath: Session;

beforeAll(async () => {
  const json = JSON.parse(readFileSync(path.join(EMBEDDED_MODEL, 'model.json'), 'utf8'));
  const weights = readFileSync(path.join(EMBEDDED_MODEL, 'weights.bin'));
  artifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  };
  byPath = await Session.open({ workers: 1 });
});
afterAll(async () => {
  await byPath?.close();
});

describe('a model from anywhere', () => {
  it('an IOHandler: the same map as the model read from disk', async () => {
    const s = await Session.open({ model: tf.io.fromMemory(artifacts), workers: 1, labels: ['none', 'red', 'green'], input: EMBEDDED_INPUT });
    try {
      expect(s.modelLabel).toBe('io-handler:layers-model');
      const [a, b] = [await s.occlude(FRAME, O), await byPath.occlude(FRAME, O)];
      expect(a.model).toBe('io-handler:layers-model');
      expect(b.model).toBe('embedded:traffic-light');
      expect(maxAbsDiff(a.map, b.map)).toBe(0);
      expect(a.minPatch).toEqual(b.minPatch);
    } finally {
      await s.close();
    }
  });

  it('a LayersModel the app loaded: scored by worker threads too, and still the app\'s after close()', async () => {
    const model = await loadLayersModel(tf.io.fromMemory(artifacts));
    const s = await Session.open({ model, workers: 2, labels: ['none', 'red', 'green'], input: EMBEDDED_INPUT });
    let r;
    try {
      expect(s.model.kind).toBe('layers-model');
      expect(s.workers).toBe(2);
      r = await s.occlude(FRAME, O);
      expect(r.model).toBe('memory:layers-model');
      expect(r.engine).toBe('incremental');
    } finally {
      await s.close();
    }
    const b = await byPath.occlude(FRAME, O);
    expect(maxAbsDiff(r.map, b.map)).toBe(0);
    // not disposed: the app goes on using it
    const y = model.predict(tf.zeros([1, 256, 455, 3])) as tf.Tensor;
    expect(y.shape).toEqual([1, 3]);
    y.dispose();
    model.dispose();
  });

  it('anything else is a one-line runtime error', async () => {
    const err = await Session.open({ model: { notAModel: true } as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OccludeError);
    expect((err as OccludeError).message).toBe('a model is a folder or model.json, a tfjs IOHandler, a LayersModel or a GraphModel');
  });
});

describe('an image from anywhere', () => {
  it('a Buffer (a file\'s bytes), decoded pixels (RGB, RGBA, grey): the same map as the file, named as given', async () => {
    const file = await byPath.occlude(FRAME, O);
    const buffer = await byPath.occlude(readFileSync(FRAME), O);
    expect(buffer.image).toBe('<buffer>');
    expect(maxAbsDiff(buffer.map, file.map)).toBe(0);
    const { data, info } = await sharp(FRAME).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const rgba = await byPath.occlude({ width: info.width, height: info.height, data, channels: 4 }, { ...O, name: 'camera frame 7' });
    expect(rgba.image).toBe('camera frame 7');
    expect(maxAbsDiff(rgba.map, file.map)).toBe(0);
    const pixels = await byPath.decode(FRAME);
    expect(maxAbsDiff((await byPath.occlude(pixels, O)).map, file.map)).toBe(0);
    expect((await byPath.predict(readFileSync(FRAME))).class).toBe('red');
    const grey = new Uint8Array(64 * 48).fill(128);
    expect((await byPath.predict({ width: 64, height: 48, data: grey })).image).toBe('<pixels>');
  });

  it('results are plain data: no decoded image in them; the overlay takes the image beside the result', async () => {
    const r = await byPath.occlude(readFileSync(FRAME), O);
    expect(Object.keys(r)).not.toContain('pixels');
    const png = await renderOverlay(r, readFileSync(FRAME));
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 455, height: 256 });
    const dir = tmpdir('occlude-api-');
    await saveOverlay(path.join(dir, 'o.png'), r, FRAME, { colormap: 'viridis', range: [0, 1] });
    expect(readFileSync(path.join(dir, 'o.png')).subarray(1, 4).toString()).toBe('PNG');
    const other = await renderOverlay(r, { width: 10, height: 10, data: new Uint8Array(300) }).catch((e: unknown) => e);
    expect((other as Error).message).toBe("<buffer>: the image is 10x10, the result's map 455x256: render a result over the image it was computed on");
  });

  it("onOutputs: each variant's raw output, the frame's first, then the grid in order; the map is their mean", async () => {
    const rows: [number, number, Float32Array][] = [];
    const r = await byPath.occlude(FRAME, { ...O, onOutputs: (i, out, pass) => rows.push([i, pass, Float32Array.from(out)]) });
    const grid = planGrid(r.width, r.height, O.patch, O.stride);
    expect(rows.map(([i]) => i)).toEqual([-1, ...Array.from({ length: grid.count }, (_, i) => i)]);
    expect(rows.every(([, pass]) => pass === 0)).toBe(true);
    // the embedded model outputs probabilities: the map is the mean of the raw red output over the covering patches
    expect(r.softmaxApplied).toBe(false);
    expect(Array.from(rows[0][2])).toEqual(r.labels.map((l) => r.probabilities[l]));
    for (const [x, y] of [[0, 0], [37, 201], [200, 100], [454, 255]]) {
      const cover = rows.slice(1).filter(([i]) => {
        const q = patchRect(grid, i);
        return x >= q.left && x < q.left + q.width && y >= q.top && y < q.top + q.height;
      });
      expect(cover.length).toBeGreaterThan(0);
      const mean = cover.reduce((sum, [, , out]) => sum + out[1], 0) / cover.length;
      expect(r.map[y * r.width + x]).toBeCloseTo(mean, 6);
    }
  });

  it('pixels of the wrong length are a usage error', async () => {
    const err = await byPath.occlude({ width: 10, height: 10, data: new Uint8Array(7) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'usage', message: 'Expected 100 pixels of 1, 3 or 4 bytes for <pixels> data but received "7 bytes"' });
  });
});
