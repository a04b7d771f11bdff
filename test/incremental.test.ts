import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { Session, type OcclusionResult } from '../dist/index.js';
import { initBackend } from '../dist/model/backends.js';
import { convAxis, shiftAxis, outputRange, inputWindow, placeWindow, type AxisOp } from '../dist/infer/incremental/geometry.js';
import { ROOT, cpuBackend, maxAbsDiff, runCli, saveLayersModel, tmpdir } from './helpers.js';

/**
 * The incremental engine (issue #15): the same maps as full forward passes, from
 * recomputing only what each patch changes. Everything here is in the repository
 * (a functional model with random weights made here, the embedded model, the fixtures).
 */

describe('region geometry (one axis), against brute force', () => {
  /** the outputs that read any of the inputs in [lo, hi), by enumerating every tap */
  function brute(op: AxisOp, lo: number, hi: number): [number, number] {
    let from = Infinity;
    let to = -Infinity;
    for (let o = 0; o < op.outSize; o++) {
      for (let j = 0; j < op.kernel; j++) {
        const i = o * op.stride - op.pad + j * op.dilation;
        if (i >= lo && i < hi) {
          from = Math.min(from, o);
          to = Math.max(to, o + 1);
        }
      }
    }
    return from === Infinity ? [0, 0] : [from, to];
  }

  it('outputRange holds every output a change reaches (and is tight without dilation gaps)', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let t = 0; t < 3000; t++) {
      const k = 1 + rnd(5);
      const s = 1 + rnd(3);
      const d = 1 + rnd(3);
      const size = (k - 1) * d + 1 + rnd(30);
      const op = t % 5 === 4 ? shiftAxis(size, rnd(4) - 1, rnd(4) - 1) : convAxis(size, k, s, d, t % 2 ? 'same' : 'valid');
      const lo = rnd(size);
      const hi = lo + 1 + rnd(size - lo);
      const [a, b] = outputRange(op, lo, hi);
      const [ba, bb] = brute(op, lo, hi);
      if (bb > ba) {
        expect(a).toBeLessThanOrEqual(ba);
        expect(b).toBeGreaterThanOrEqual(bb);
        if (op.dilation === 1 || op.kernel === 1) expect([a, b]).toEqual([ba, bb]);
      }
      // the window of those outputs holds every input they read
      if (b > a) {
        const [wl, wh] = inputWindow(op, a, b - a);
        expect(wl).toBe(a * op.stride - op.pad);
        expect(wh).toBe((b - 1) * op.stride - op.pad + (op.kernel - 1) * op.dilation + 1);
      }
    }
  });

  it('same padding splits like TensorFlow (the extra row or column after)', () => {
    expect(convAxis(10, 3, 2, 1, 'same')).toMatchObject({ outSize: 5, pad: 0 });
    expect(convAxis(11, 3, 2, 1, 'same')).toMatchObject({ outSize: 6, pad: 1 });
    expect(convAxis(7, 5, 1, 2, 'same')).toMatchObject({ outSize: 7, pad: 4 });
    expect(convAxis(227, 7, 2, 1, 'valid')).toMatchObject({ outSize: 111, pad: 0 });
  });

  it('a window of fixed size holds its region and stays inside the map', () => {
    expect(placeWindow(0, 3, 5, 20)).toBe(0);
    expect(placeWindow(10, 13, 5, 20)).toBe(10);
    expect(placeWindow(17, 20, 5, 20)).toBe(15);
    expect(placeWindow(3, 3, 5, 20)).toBe(0); // empty
  });
});

/**
 * A functional model with every kind of layer the engine handles, random weights:
 * Add, SeparableConv2D with stride 2 and same padding, a dilated conv, BatchNormalization,
 * DepthwiseConv2D, zero padding and cropping, max and average pooling with same padding,
 * Concatenate (kept in parts through an activation, a pooling and a convolution; and into
 * another concatenation), and a head that needs whole tensors (Flatten + Dense, global average and max).
 */
function buildModel(): tfl.LayersModel {
  const L = tfl.layers;
  const input = tfl.input({ shape: [40, 56, 3], name: 'image' });
  const c1 = L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }).apply(input) as tfl.SymbolicTensor;
  const sep = L.separableConv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'sep' }).apply(c1) as tfl.SymbolicTensor;
  const bn = L.batchNormalization({ name: 'bn' }).apply(sep) as tfl.SymbolicTensor;
  const dil = L.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', name: 'dil' }).apply(bn) as tfl.SymbolicTensor;
  const add = L.add({ name: 'add' }).apply([bn, dil]) as tfl.SymbolicTensor;
  const dw = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', activation: 'tanh', name: 'dw' }).apply(add) as tfl.SymbolicTensor;
  const zp = L.zeroPadding2d({ padding: [[1, 2], [2, 1]], name: 'zp' }).apply(dw) as tfl.SymbolicTensor;
  const mp = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'mp' }).apply(zp) as tfl.SymbolicTensor;
  const ap = L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'ap' }).apply(mp) as tfl.SymbolicTensor;
  const crop = L.cropping2D({ cropping: [[1, 0], [0, 1]], name: 'crop' }).apply(ap) as tfl.SymbolicTensor;
  const a = L.conv2d({ filters: 5, kernelSize: 1, activation: 'relu', name: 'branch_a' }).apply(crop) as tfl.SymbolicTensor;
  const b = L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', name: 'branch_b' }).apply(crop) as tfl.SymbolicTensor;
  const cat = L.concatenate({ name: 'cat' }).apply([a, b]) as tfl.SymbolicTensor;
  // a concatenation runs in parts through channel-wise layers and into a convolution
  const act = L.activation({ activation: 'elu', name: 'act' }).apply(cat) as tfl.SymbolicTensor;
  const pool = L.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'pool' }).apply(act) as tfl.SymbolicTensor;
  const post = L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'post' }).apply(pool) as tfl.SymbolicTensor;
  const cat2 = L.concatenate({ name: 'cat2' }).apply([post, pool]) as tfl.SymbolicTensor;
  const drop = L.dropout({ rate: 0.3, name: 'drop' }).apply(cat2) as tfl.SymbolicTensor;
  const flat = L.dense({ units: 4, name: 'fc_flat' }).apply(L.flatten({ name: 'flat' }).apply(drop)) as tfl.SymbolicTensor;
  const gap = L.globalAveragePooling2d({ name: 'gap' }).apply(drop) as tfl.SymbolicTensor;
  const gmp = L.globalMaxPooling2d({ name: 'gmp' }).apply(drop) as tfl.SymbolicTensor;
  const head = L.concatenate({ name: 'head' }).apply([flat, gap, gmp]) as tfl.SymbolicTensor;
  const out = L.dense({ units: 3, activation: 'softmax', name: 'fc' }).apply(head) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  // deterministic random weights; BatchNormalization's moving variance stays positive
  let seed = 1;
  model.setWeights(
    model.weights.map((w) => {
      seed++;
      const [lo, hi] = w.name.includes('moving_variance') ? [0.5, 1.5] : [-0.6, 0.6];
      return tf.randomUniform(w.shape, lo, hi, 'float32', seed);
    }),
  );
  return model;
}

let dir: string;
let frame: string;
let modelDir: string;

beforeAll(async () => {
  await cpuBackend();
  dir = tmpdir('occlude-incremental-');
  modelDir = await saveLayersModel(buildModel(), path.join(dir, 'model'), { labels: ['a', 'b', 'c'], input: { size: [40, 56], range: [0, 1] } });
  // a 90x70 frame with structure on both axes (resized to the model's 56x40)
  const w = 90;
  const h = 70;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) px.set([(x * 7 + y * 3) % 256, (x * x + 5 * y) % 256, (255 - y * 3) % 256], (y * w + x) * 3);
  }
  frame = path.join(dir, 'frame.png');
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(frame);
});

function expectSameMaps(a: OcclusionResult, b: OcclusionResult, tol = 1e-5): void {
  expect(a.maps.map((m) => m.class)).toEqual(b.maps.map((m) => m.class));
  for (let k = 0; k < a.maps.length; k++) {
    expect(maxAbsDiff(a.maps[k].map, b.maps[k].map)).toBeLessThan(tol);
    expect(Math.abs(a.maps[k].minProbability - b.maps[k].minProbability)).toBeLessThan(tol);
    // the same minimum patch, unless two patches tie within float rounding
    if (a.maps[k].minPatch.left !== b.maps[k].minPatch.left || a.maps[k].minPatch.top !== b.maps[k].minPatch.top) {
      expect(Math.abs(a.maps[k].minProbability - b.maps[k].minProbability)).toBeLessThan(1e-6);
    }
  }
}

describe('a functional model with random weights: incremental equals full', () => {
  let full: Session;
  let inc: Session;
  beforeAll(async () => {
    full = await Session.open({ model: modelDir, engine: 'full', workers: 1, backend: 'wasm' });
    inc = await Session.open({ model: modelDir, engine: 'incremental', workers: 1, backend: 'wasm' });
  });
  afterAll(async () => {
    await full?.close();
    await inc?.close();
  });

  it('runs the incremental engine and names the whole-tensor layers', () => {
    expect(inc.engine).toBe('incremental');
    expect(inc.engineInfo.reason).toMatch(/flat \(Flatten\)/);
    expect(inc.engineInfo.reason).toMatch(/gap \(GlobalAveragePooling2D\)/);
    expect(inc.engineInfo.reason).toMatch(/gmp \(GlobalMaxPooling2D\)/);
    expect(full.engine).toBe('full');
  });

  for (const [patch, stride] of [
    [16, 8],
    [9, 4],
    [30, 30],
  ]) {
    it(`patch ${patch} / stride ${stride}, every class, within 1e-5`, async () => {
      const o = { patch, stride, classes: 'all' as const };
      const a = await inc.occlude(frame, o);
      const b = await full.occlude(frame, o);
      expect(a.engine).toBe('incremental');
      expect(b.engine).toBe('full');
      expect(a.maps.length).toBe(3);
      expect(a.evaluated).toBe(b.evaluated);
      expectSameMaps(a, b);
    });
  }

  it('with --iterate 2 and a blur fill', async () => {
    const o = { patch: 20, stride: 10, iterate: 2, fill: 'blur' as const };
    const a = await inc.occlude(frame, o);
    const b = await full.occlude(frame, o);
    expectSameMaps(a, b);
    expect(a.iterations?.map((p) => p.minPatch)).toEqual(b.iterations?.map((p) => p.minPatch));
  });

  it('keeps the tensor count flat across images', async () => {
    await inc.occlude(frame, { patch: 30, stride: 15 });
    const before = await inc.numTensors();
    await inc.occlude(frame, { patch: 20, stride: 7 });
    await inc.predict(frame);
    expect(await inc.numTensors()).toEqual(before);
  });

  it('on the pure-JS cpu backend too (its tensors are read and made through JS arrays)', async () => {
    const cpuInc = await Session.open({ model: modelDir, engine: 'incremental', workers: 1, backend: 'cpu' });
    const cpuFull = await Session.open({ model: modelDir, engine: 'full', workers: 1, backend: 'cpu' });
    try {
      const o = { patch: 30, stride: 15, classes: 'all' as const };
      const a = await cpuInc.occlude(frame, o);
      const b = await cpuFull.occlude(frame, o);
      expect(a.backend).toBe('cpu');
      expect(a.engine).toBe('incremental');
      expectSameMaps(a, b);
    } finally {
      await cpuInc.close();
      await cpuFull.close();
      await initBackend('wasm'); // the backend is per thread: back to wasm for the tests below
    }
  });

  it('with two workers, the same maps as in-process', async () => {
    const pool = await Session.open({ model: modelDir, engine: 'incremental', workers: 2, backend: 'wasm' });
    try {
      const a = await pool.occlude(frame, { patch: 16, stride: 8, classes: 'all' });
      const b = await inc.occlude(frame, { patch: 16, stride: 8, classes: 'all' });
      expectSameMaps(a, b, 1e-7);
    } finally {
      await pool.close();
    }
  });
});

describe('models the incremental engine cannot run', () => {
  it('falls back to full under auto and says why; --engine incremental is a usage error', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [8, 8, 3] }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
    const d = await saveLayersModel(m, path.join(dir, 'dense-only'), { labels: ['x', 'y'] });
    const s = await Session.open({ model: d, workers: 1 });
    try {
      expect(s.engine).toBe('full');
      expect(s.engineInfo.reason).toMatch(/no convolution or pooling comes before flatten.* \(Flatten\)/);
    } finally {
      await s.close();
    }
    await expect(Session.open({ model: d, engine: 'incremental' })).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/--engine incremental cannot run/) });
    const r = await runCli([frame, '--model', d, '--engine', 'incremental', '--patch', '8']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--engine incremental cannot run .*model\.json: no convolution or pooling/);
  });
});

describe('the memory budget', () => {
  it('holds the cached activations: a budget they do not fit runs the full engine (auto) or refuses (incremental)', async () => {
    // many wide layers at full resolution: one frame's cached activations weigh more than a full-engine variant
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
        ...Array.from({ length: 7 }, () => tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' })),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const d = await saveLayersModel(m, path.join(dir, 'wide'), { labels: ['x', 'y'] });
    const { totalBytes, footprint } = await import('../dist/plan/budget.js');
    const probe = await Session.open({ model: d, workers: 1 });
    const spec = probe.inputSpec();
    const weights = probe.model.source!.weightBytes;
    const cache = probe.engineInfo.cacheBytes!;
    expect(probe.engine).toBe('incremental');
    await probe.close();
    expect(cache).toBe(8 * 32 * 32 * 64 * 4 + 32 * 32 * 3 * 4);
    const full = totalBytes(1, 1, spec, weights);
    const incremental = totalBytes(1, 1, spec, weights, footprint(spec, 'incremental', cache));
    expect(incremental).toBeGreaterThan(full + 2 ** 20);
    const tight = full + 2 ** 19; // holds the full engine, not the cache
    const s = await Session.open({ model: d, workers: 1, memoryBudget: tight });
    try {
      expect(s.engine).toBe('full');
      expect(s.engineInfo.reason).toMatch(/one frame's cached activations \(\d+ MB in each of 1 worker\(s\)\) do not fit the memory budget of \d+ MB/);
    } finally {
      await s.close();
    }
    await expect(Session.open({ model: d, workers: 1, memoryBudget: tight, engine: 'incremental' })).rejects.toMatchObject({ kind: 'usage' });
    const ok = await Session.open({ model: d, workers: 1, memoryBudget: incremental });
    try {
      expect(ok.engine).toBe('incremental');
    } finally {
      await ok.close();
    }
  });
});

describe('the embedded model on the fixtures', () => {
  const fixtures = ['red-single.jpg', 'green-double.jpg', 'parking-sign.jpg', 'night-red.jpg'];
  let full: Session;
  let inc: Session;
  beforeAll(async () => {
    full = await Session.open({ engine: 'full', workers: 1 });
    inc = await Session.open({ workers: 1 });
  });
  afterAll(async () => {
    await full?.close();
    await inc?.close();
  });

  it('auto picks the incremental engine', () => {
    expect(inc.engine).toBe('incremental');
  });

  for (const name of fixtures) {
    it(`${name}: patch 64 / stride 32, every class, within 1e-5`, async () => {
      const file = path.join(ROOT, 'fixtures', name);
      expect(existsSync(file)).toBe(true);
      const a = await inc.occlude(file, { patch: 64, stride: 32, classes: 'all' });
      const b = await full.occlude(file, { patch: 64, stride: 32, classes: 'all' });
      expectSameMaps(a, b);
    });
  }
});

describe('--class all', () => {
  it('writes one overlay per class from one sweep; each map equals its single-class run', async () => {
    const out = tmpdir('occlude-all-');
    const file = path.join(ROOT, 'fixtures', 'red-single.jpg');
    const r = await runCli([file, '--class', 'all', '--patch', '64', '--stride', '32', '--out', out, '--json', '--workers', '1', '--save-map', path.join(out, 'm.f32')]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim());
    expect(j.engine).toBe('incremental');
    expect(j.classes.map((c: { class: string }) => c.class).sort()).toEqual(['green', 'none', 'red']);
    for (const c of j.classes) {
      expect(existsSync(c.output)).toBe(true);
      expect(c.output).toMatch(new RegExp(`red-single\\.occlusion\\.${c.class}\\.png$`));
      expect(existsSync(c.map)).toBe(true);
    }
    expect(j.class).toBe(j.predicted.class);
    const s = await Session.open({ workers: 1 });
    try {
      const single = await s.occlude(file, { patch: 64, stride: 32, class: 'green' });
      const green = j.classes.find((c: { class: string }) => c.class === 'green');
      expect(green.minProbability).toBeCloseTo(single.minProbability, 6);
      expect(green.minPatch).toEqual(single.minPatch);
    } finally {
      await s.close();
    }
  });
});
