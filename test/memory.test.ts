import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { ROOT, saveLayersModel, tmpdir } from './helpers.js';

/**
 * Peak memory must not depend on the number of variants: a 2000x1500 frame at
 * patch 128 with stride 64 (884 variants) and stride 20 (8774, ~10x), each in a
 * fresh process, with a small model so that the check is quick.
 */
let dir: string;
let image: string;
let model: string;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  dir = tmpdir('occlude-mem-');
  image = path.join(dir, 'big.jpg');
  const w = 2000;
  const h = 1500;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg().toFile(image);
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [64, 64, 3], filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  model = await saveLayersModel(m, path.join(dir, 'model'));
});

function peak(stride: number): { variants: number; rssMB: number } {
  const script = `
    import { Session } from ${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))};
    const s = await Session.open({ model: ${JSON.stringify(model)}, workers: 2 });
    const r = await s.occlude(${JSON.stringify(image)}, { patch: 128, stride: ${stride} });
    await s.close();
    console.log(JSON.stringify({ variants: r.variants, rssMB: process.resourceUsage().maxRSS / 1024 }));`;
  const file = path.join(dir, `run-${stride}.mjs`);
  writeFileSync(file, script);
  const p = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(p.stderr);
  return JSON.parse(p.stdout.trim().split('\n').pop()!);
}

describe('bounded memory', () => {
  it('peak RSS stays bounded and grows < 10% for 10x the variants', () => {
    const a = peak(64);
    const b = peak(20);
    expect(a.variants).toBe(884);
    expect(b.variants).toBe(8774);
    expect(a.rssMB).toBeLessThan(1536);
    expect(b.rssMB).toBeLessThan(1536);
    expect((b.rssMB - a.rssMB) / a.rssMB).toBeLessThan(0.1);
  });
});
