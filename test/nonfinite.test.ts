import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { ROOT, saveLayersModel, tmpdir, runCli } from './helpers.js';

/**
 * Issue #17, defect 1: a model whose output is not finite (NaN, Infinity) is a runtime error
 * that names the model and the image, never a prediction.
 */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
let dir: string;
let nanModel: string;
let infModel: string;
let blackModel: string;
let grey: string;

/** A tiny 3-class model on a 32x32 input, saved with every weight set to `value`. */
async function constantModel(to: string, value: number): Promise<string> {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 2, kernelSize: 3, activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3 }),
    ],
  });
  await saveLayersModel(m, to, { labels: ['none', 'red', 'green'] });
  const bin = path.join(to, 'weights.bin');
  const n = readFileSync(bin).length / 4;
  writeFileSync(bin, Buffer.from(new Float32Array(n).fill(value).buffer));
  return path.join(to, 'model.json');
}

beforeAll(async () => {
  dir = tmpdir('occlude-nan-');
  nanModel = await constantModel(path.join(dir, 'nan'), NaN);
  infModel = await constantModel(path.join(dir, 'inf'), 3e38); // finite weights whose outputs overflow to Infinity
  // finite on a grey frame, Infinity as soon as a black patch covers part of it
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 1, kernelSize: 1, activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 1 }),
      tfl.layers.dense({ units: 3 }),
    ],
  });
  m.setWeights([tf.fill([1, 1, 3, 1], -1), tf.tensor1d([0.05]), tf.fill([1, 1], 1e30), tf.zeros([1]), tf.fill([1, 3], 1e30), tf.zeros([3])]);
  blackModel = await saveLayersModel(m, path.join(dir, 'black'), { labels: ['none', 'red', 'green'] });
  grey = path.join(dir, 'grey.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toFile(grey);
});

describe('a model whose output is not finite', () => {
  it('predict: exit 1, one line naming the model and the image', async () => {
    const r = await runCli(['predict', FRAME, '--model', nanModel]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(`occlude: ${nanModel}: output for ${FRAME} is not finite (NaN)\n`);
  });

  it('occlude: exit 1 with the same message (not "no variant has been accumulated")', async () => {
    const r = await runCli([FRAME, '--model', nanModel, '--patch', '128', '--workers', '1', '-o', path.join(dir, 'nan.png')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${nanModel}: output for ${FRAME} is not finite (NaN)\n`);
  });

  it('an occluded variant whose output is not finite stops the image too', async () => {
    const ok = await runCli(['predict', grey, '--model', blackModel]);
    expect(ok.code).toBe(0); // the frame itself is fine
    const r = await runCli([grey, '--model', blackModel, '--patch', '16', '--fill', '#000000', '--workers', '1', '-o', path.join(dir, 'black.png')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${path.join(blackModel, 'model.json')}: output for ${grey} is not finite (Infinity)\n`);
  });

  it('Infinity is refused too', async () => {
    const r = await runCli(['predict', FRAME, '--model', infModel, '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/output for .*red-single\.jpg is not finite \((-?Infinity|NaN)\)/);
  });

  it('check: a case with such output fails (class-only and evidence cases)', async () => {
    const manifest = path.join(dir, 'nan.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        model: nanModel,
        patch: 128,
        cases: [
          { image: FRAME, class: 'none' },
          { image: FRAME, name: 'with-box', class: 'none', evidence: [{ left: 0, top: 0, width: 455, height: 256 }] },
        ],
      }),
    );
    const junit = path.join(dir, 'nan.xml');
    const r = await runCli(['check', manifest, '--junit', junit, '--workers', '1']);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^FAIL .*red-single\.jpg: .*is not finite \(NaN\)$/);
    expect(lines[1]).toMatch(/^FAIL with-box: .*is not finite \(NaN\)$/);
    expect(lines[2]).toMatch(/^0 passed, 2 failed/);
    expect(readFileSync(junit, 'utf8')).toMatch(/tests="2" failures="0" errors="2"/);
  });
});
