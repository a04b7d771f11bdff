import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { Session } from '../dist/index.js';
import { planGraph } from '../dist/infer/incremental/graph.js';
import { IncrementalModel } from '../dist/infer/incremental/model.js';
import { validateMetadata } from '../dist/model/metadata.js';
import { cpuBackend, maxAbsDiff, runCli, saveLayersModel, tmpdir } from './helpers.js';

/**
 * Squeeze-and-excitation gates held at the unoccluded frame's values ("incremental": {"gates": "frame"}
 * in occlude.json): the incremental engine then runs past the gates on windows. Checked against the
 * same network with the frame's gate written in as a constant (a 1x1 depthwise convolution), run whole.
 */

const H = 24;
const W = 32;
const L = tfl.layers;
const st = (x: unknown) => x as tfl.SymbolicTensor;

/** conv, hard-swish (Rescaling + hardSigmoid + Multiply), a squeeze-and-excitation block, conv, pooled head */
function seModel(opts: { meanAlsoInHead?: boolean } = {}): tfl.LayersModel {
  const input = tfl.input({ shape: [H, W, 3], name: 'image' });
  const c1 = st(L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }).apply(input));
  const c2 = st(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'c2' }).apply(c1));
  const hs = st(L.activation({ activation: 'hardSigmoid', name: 'hs_gate' }).apply(L.rescaling({ scale: 5 / 6, offset: 0, name: 'hs_scale' }).apply(c2)));
  const x = st(L.multiply({ name: 'hs' }).apply([c2, hs]));
  const mean = st(L.globalAveragePooling2d({ name: 'se_mean' }).apply(x));
  const fc1 = st(L.dense({ units: 4, activation: 'tanh', name: 'se_fc1' }).apply(mean));
  const fc2 = st(L.dense({ units: 8, activation: 'sigmoid', name: 'se_fc2' }).apply(fc1));
  const gate = st(L.reshape({ targetShape: [1, 1, 8], name: 'se_gate' }).apply(fc2));
  const se = st(L.multiply({ name: 'se' }).apply([x, gate]));
  const c3 = st(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', name: 'c3' }).apply(se));
  const c4 = st(L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c4' }).apply(c3));
  const pooled = [st(L.globalMaxPooling2d({ name: 'gmp' }).apply(c4)), st(L.globalAveragePooling2d({ name: 'gap' }).apply(c4))];
  if (opts.meanAlsoInHead) pooled.push(mean); // the SE mean also feeds the classifier: it must follow the patch
  const head = st(L.concatenate({ name: 'head' }).apply(pooled));
  const out = st(L.dense({ units: 3, activation: 'softmax', name: 'fc' }).apply(head));
  const model = tfl.model({ inputs: input, outputs: out });
  let seed = 11;
  // the gates swing with the frame's mean (large SE weights); the rest stays far from saturation
  model.setWeights(model.weights.map((w) => tf.randomUniform(w.shape, ...(w.name.startsWith('se_') ? [-3, 3] : [-0.5, 0.5]) as [number, number], 'float32', seed++)));
  return model;
}

/** The same network with a fixed gate: `se` becomes a 1x1 depthwise convolution whose weights are `gate`. */
function fixedGateModel(m: tfl.LayersModel, gate: Float32Array): tfl.LayersModel {
  const input = tfl.input({ shape: [H, W, 3] });
  const get = (n: string) => m.getLayer(n);
  const c2 = st(get('c2').apply(get('c1').apply(input)));
  const x = st(get('hs').apply([c2, get('hs_gate').apply(get('hs_scale').apply(c2))]));
  const fixed = L.depthwiseConv2d({ kernelSize: 1, useBias: false, name: 'fixed_gate' });
  const se = st(fixed.apply(x));
  fixed.setWeights([tf.tensor4d(gate, [1, 1, 8, 1])]);
  const c4 = st(get('c4').apply(get('c3').apply(se)));
  const head = st(get('head').apply([get('gmp').apply(c4), get('gap').apply(c4)]));
  return tfl.model({ inputs: input, outputs: st(get('fc').apply(head)) });
}

const image = new Float32Array(H * W * 3).map((_, i) => ((i * 37) % 101) / 100);
const patches = [
  [2, 3, 8, 8],
  [14, 20, 8, 10],
  [0, 0, 5, 32],
]; // top, left, height, width

/** The input with one grey patch, and the windows the engine takes for a batch of such variants (whole frames). */
function variants() {
  const data = new Float32Array(patches.length * image.length);
  const region = { top0: new Int32Array(3), top1: new Int32Array(3), left0: new Int32Array(3), left1: new Int32Array(3) };
  patches.forEach(([t, l, h, w], b) => {
    const v = image.slice();
    for (let y = t; y < t + h; y++) for (let x = l; x < l + w; x++) v.fill(0.5, (y * W + x) * 3, (y * W + x) * 3 + 3);
    data.set(v, b * image.length);
    [region.top0[b], region.top1[b], region.left0[b], region.left1[b]] = [t, t + h, l, l + w];
  });
  return { count: 3, height: H, width: W, channels: 3, top: new Int32Array(3), left: new Int32Array(3), ...region, data };
}

beforeAll(async () => {
  await cpuBackend();
});

describe('planning with frame gates', () => {
  it('without them, the engine stops at the squeeze-and-excitation mean; with them, it runs past the gate', () => {
    const m = seModel();
    const exact = planGraph(m);
    if ('reason' in exact) throw new Error(exact.reason);
    expect(exact.frameGates).toBe(0);
    expect(exact.frontier).toContain('se_mean (GlobalAveragePooling2D)');
    const gated = planGraph(m, { frameGates: true });
    if ('reason' in gated) throw new Error(gated.reason);
    expect(gated.frameGates).toBe(1);
    expect([...gated.frontier].sort()).toEqual(['gap (GlobalAveragePooling2D)', 'gmp (GlobalMaxPooling2D)']);
    const by = (n: string) => gated.nodes.find((x) => x.layer.name === n)!;
    expect(['se_mean', 'se_fc1', 'se_fc2', 'se_gate'].map((n) => by(n).frozen)).toEqual([true, true, true, true]);
    expect(by('se').gate).toBe(true);
    expect([by('se').local, by('c4').local, by('gap').frozen]).toEqual([true, true, undefined]);
  });

  it('a mean that also feeds the classifier is not frozen: the plan stays exact', () => {
    const p = planGraph(seModel({ meanAlsoInHead: true }), { frameGates: true });
    if ('reason' in p) throw new Error(p.reason);
    expect(p.frameGates).toBe(0);
    expect(p.nodes.some((n) => n.frozen || n.gate)).toBe(false);
    expect(p.frontier).toContain('se_mean (GlobalAveragePooling2D)');
  });
});

describe('the engine with frame gates', () => {
  it('gives the network with the frame gate fixed, within 1e-5; the exact plan gives the network itself', () => {
    const m = seModel();
    const plan = planGraph(m, { frameGates: true });
    if ('reason' in plan) throw new Error(plan.reason);
    const engine = new IncrementalModel(plan);
    engine.setFrame(image, [H, W, 3]);
    const v = variants();
    const approx = engine.run(v);

    // the frame's gate, from the model's own layers; then the fixed-gate network on the whole variants
    const gateModel = tfl.model({ inputs: m.inputs, outputs: m.getLayer('se_gate').output as tfl.SymbolicTensor });
    const x0 = tf.tensor4d(image, [1, H, W, 3]);
    const gate = (gateModel.predict(x0) as tf.Tensor).dataSync() as Float32Array;
    const xs = tf.tensor4d(v.data, [3, H, W, 3]);
    const fixed = (fixedGateModel(m, gate).predict(xs) as tf.Tensor).dataSync();
    const full = (m.predict(xs) as tf.Tensor).dataSync();
    expect(maxAbsDiff(approx, fixed)).toBeLessThan(1e-5);
    // the unoccluded frame itself is exact
    expect(maxAbsDiff(engine.baseOutput, (m.predict(x0) as tf.Tensor).dataSync())).toBeLessThan(1e-5);
    // and the approximation is one: a patch moves the gates of the whole model
    expect(maxAbsDiff(approx, full)).toBeGreaterThan(1e-4);

    const exactPlan = planGraph(m);
    if ('reason' in exactPlan) throw new Error(exactPlan.reason);
    const exactEngine = new IncrementalModel(exactPlan);
    exactEngine.setFrame(image, [H, W, 3]);
    expect(maxAbsDiff(exactEngine.run(variants()), full)).toBeLessThan(1e-5);

    engine.dispose();
    exactEngine.dispose();
    tf.dispose([x0, xs]);

    // frames and their variants leave no tensor behind (the frozen gates are released with the next frame)
    const before = tf.memory().numTensors;
    const again = new IncrementalModel(plan);
    for (const frame of [image, image.map((p) => 1 - p), image]) {
      again.setFrame(frame, [H, W, 3]);
      again.run(variants());
    }
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('occlude.json "incremental": {"gates": "frame"}', () => {
  let dir: string;
  let frame: string;
  beforeAll(async () => {
    dir = tmpdir('occlude-gates-');
    const px = Buffer.alloc(W * 2 * H * 2 * 3).map((_, i) => (i * 53) % 256);
    frame = path.join(dir, 'frame.png');
    await sharp(px, { raw: { width: W * 2, height: H * 2, channels: 3 } }).png().toFile(frame);
  });

  it('turns them on for that model, says so, and --engine full still gives the exact map', async () => {
    const m = seModel();
    const input = { size: [H, W], range: [0, 1] };
    const gated = await saveLayersModel(m, path.join(dir, 'gated'), { labels: ['a', 'b', 'c'], input, incremental: { gates: 'frame' } });
    const plain = await saveLayersModel(m, path.join(dir, 'plain'), { labels: ['a', 'b', 'c'], input });
    const o = { patch: 8, stride: 4, classes: 'all' as const };
    const run = async (model: string, engine: 'auto' | 'full') => {
      const s = await Session.open({ model, engine, workers: 1, backend: 'wasm' });
      try {
        return { r: await s.occlude(frame, o), info: s.engineInfo };
      } finally {
        await s.close();
      }
    };
    const a = await run(gated, 'auto');
    const e = await run(plain, 'auto');
    const f = await run(gated, 'full');
    expect([a.r.engine, a.r.gates, a.info.frameGates]).toEqual(['incremental', 'frame', 1]);
    expect(a.info.reason).toMatch(/1 squeeze-and-excitation gates are held at the unoccluded frame's values/);
    expect([e.r.gates, e.info.frameGates, f.r.gates, f.r.engine]).toEqual([undefined, 0, undefined, 'full']);
    for (let k = 0; k < 3; k++) expect(maxAbsDiff(e.r.maps[k].map, f.r.maps[k].map)).toBeLessThan(1e-5);
    expect(Math.max(...[0, 1, 2].map((k) => maxAbsDiff(a.r.maps[k].map, f.r.maps[k].map)))).toBeGreaterThan(1e-5);
    expect(a.r.probability).toBeCloseTo(f.r.probability, 5);

    const cli = await runCli([frame, '--model', gated, '--patch', '8', '--json', '--out', path.join(dir, 'out')]);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.out)).toMatchObject({ engine: 'incremental', gates: 'frame' });
    const text = await runCli([frame, '--model', gated, '--patch', '8', '--out', path.join(dir, 'out2')]);
    expect(text.out).toMatch(/engine: incremental \(squeeze-and-excitation gates held at the unoccluded frame's: approximate\)/);
  });

  it('checks the field up front', () => {
    expect(validateMetadata({ incremental: { gates: 'frame' } })).toEqual({ incremental: { gates: 'frame' } });
    expect(() => validateMetadata({ incremental: { gates: 'fast' } })).toThrow(/Expected "frame" or "exact" for incremental.gates but received "fast"/);
    expect(() => validateMetadata({ incremental: 'frame' })).toThrow(/incremental/);
  });
});
