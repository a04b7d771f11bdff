import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { Session } from '../dist/index.js';
import { tmpdir } from './helpers.js';

/**
 * A hand-written TF.js GraphModel (the converter's format): mean colour -> 3 logits -> softmax.
 * Its output shape is not declared, as often in converted graphs.
 */
const W = [4, -2, -2, -2, 4, -2, -2, -2, 4]; // [3 channels x 3 classes]: each class likes one channel
let dir: string;
let artifacts: tf.io.ModelArtifacts;

beforeAll(async () => {
  dir = tmpdir('occlude-graph-');
  const f = (type: string) => ({ type });
  const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const graph = {
    format: 'graph-model',
    generatedBy: 'test',
    convertedBy: 'hand',
    modelTopology: {
      node: [
        { name: 'image', op: 'Placeholder', attr: { dtype: f('DT_FLOAT'), shape: { shape: dims(-1, 16, 24, 3) } } },
        { name: 'axes', op: 'Const', attr: { dtype: f('DT_INT32'), value: { tensor: { dtype: 'DT_INT32', tensorShape: dims(2) } } } },
        { name: 'w', op: 'Const', attr: { dtype: f('DT_FLOAT'), value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(3, 3) } } } },
        { name: 'mean', op: 'Mean', input: ['image', 'axes'], attr: { keep_dims: { b: false }, T: f('DT_FLOAT'), Tidx: f('DT_INT32') } },
        { name: 'logits', op: 'MatMul', input: ['mean', 'w'], attr: { T: f('DT_FLOAT'), transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: f('DT_FLOAT') } },
      ],
      library: {},
      versions: {},
    },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'axes', shape: [2], dtype: 'int32' },
          { name: 'w', shape: [3, 3], dtype: 'float32' },
        ],
      },
    ],
  };
  const weights = Buffer.concat([Buffer.from(new Int32Array([1, 2]).buffer), Buffer.from(new Float32Array(W).buffer)]);
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(graph));
  writeFileSync(path.join(dir, 'weights.bin'), weights);
  artifacts = { format: 'graph-model', modelTopology: graph.modelTopology, weightSpecs: graph.weightsManifest[0].weights as tf.io.WeightsManifestEntry[], weightData: new Uint8Array(weights).buffer };
  writeFileSync(path.join(dir, 'occlude.json'), JSON.stringify({ labels: ['red', 'green', 'blue'] }));
  // a grey frame with a green square: the green class rests on the square
  const w = 96;
  const h = 64;
  const px = Buffer.alloc(w * h * 3, 128);
  for (let y = 20; y < 36; y++) for (let x = 60; x < 76; x++) px.set([0, 255, 0], (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, 'frame.png'));
});

describe('GraphModel', () => {
  it('loads, learns its class count, and finds the evidence', async () => {
    const s = await Session.open({ model: dir, workers: 1 });
    try {
      expect(s.model.kind).toBe('graph-model');
      expect(s.model.outputs).toBe(3);
      const r = await s.occlude(path.join(dir, 'frame.png'), { class: 'green', patch: 16, stride: 8 });
      expect(r.class).toBe('green');
      expect(r.predicted.class).toBe('green');
      // origins run -15, -7, 1, ... 57, 65: the patch at (57,17) covers most of the square at (60,20)
      expect(r.minPatch).toEqual({ left: 57, top: 17, width: 16, height: 16 });
    } finally {
      await s.close();
    }
  });

  it('a GraphModel the app loaded: the same result, in-process and with two worker threads', async () => {
    const model = await loadGraphModel(tf.io.fromMemory(artifacts));
    for (const workers of [1, 2]) {
      const s = await Session.open({ model, workers, labels: ['red', 'green', 'blue'] });
      try {
        expect(s.model.kind).toBe('graph-model');
        const r = await s.occlude(path.join(dir, 'frame.png'), { class: 'green', patch: 16, stride: 8 });
        expect(r.model).toBe('memory:graph-model');
        expect(r.minPatch).toEqual({ left: 57, top: 17, width: 16, height: 16 });
      } finally {
        await s.close();
      }
    }
    model.dispose();
  });
});
