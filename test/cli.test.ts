import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { BIN, ROOT, readF32, saveLayersModel, tmpdir, runCli } from './helpers.js';

/** The CLI on the fixtures with the embedded model (no --model). */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
const GREEN = path.join(ROOT, 'fixtures', 'green-single.jpg');
const FAST = ['--patch', '128', '--stride', '128', '--workers', '1'];
let dir: string;

const cli = runCli;

beforeAll(async () => {
  dir = tmpdir();
  writeFileSync(path.join(dir, 'corrupt.jpg'), Buffer.concat([readFileSync(FRAME).subarray(0, 200), Buffer.alloc(50, 7)]));
  writeFileSync(path.join(dir, 'empty.jpg'), '');
  writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  writeFileSync(path.join(dir, 'bad-model.json'), '{"modelTopology": ');
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } }).png().toFile(path.join(dir, 'small.png'));
  // logits (no softmax), 3 classes, 32x32 input
  const logits = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: 'ones' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3, kernelInitializer: 'glorotNormal' }),
    ],
  });
  await saveLayersModel(logits, path.join(dir, 'logits'), { labels: ['a', 'b', 'c'] });
  const notImage = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [10], units: 2, activation: 'softmax' })] });
  await saveLayersModel(notImage, path.join(dir, 'dense'));
});

describe('CLI conventions', () => {
  it('--help lists the flags and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--patch', '--stride', '--class', '--fill', '--mode', '--iterate', '--colormap', '--alpha', '--range', '--save-map', '--json', '--backend', '--workers', '--batch-size', '--memory-budget', '--max-pixels', '--exact-reference']) {
      expect(r.out).toContain(flag);
    }
  });

  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });
});

describe('occlusion from the CLI (in-process)', () => {
  it('writes the overlay and prints one JSON object with the documented fields', async () => {
    const out = path.join(dir, 'o1.png');
    const r = await cli([FRAME, ...FAST, '--class', 'red', '-o', out, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ['image', 'model', 'backend', 'labels', 'class', 'classIndex', 'probability', 'patch', 'stride', 'variants', 'minProbability', 'minPatch', 'output', 'map', 'seconds']) {
      expect(j).toHaveProperty(k);
    }
    expect(j.class).toBe('red');
    expect(j.classIndex).toBe(1);
    expect(j.backend).toMatch(/^(node|wasm|cpu)$/);
    expect(j.labels).toEqual(['none', 'red', 'green']);
    expect(j.variants).toBe(15);
    expect(Object.keys(j.minPatch).sort()).toEqual(['height', 'left', 'top', 'width']);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([455, 256]);
  });

  it('accepts a class index and prints a human summary by default', async () => {
    const r = await cli([FRAME, ...FAST, '--class', '2', '-o', path.join(dir, 'o2.png')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('predicted red');
    expect(r.out).toContain('target green');
    expect(r.out).toContain('o2.png');
    expect(r.out).toMatch(/^ {2}backend: (node|wasm|cpu), engine: (incremental|full|reference)$/m); // the active backend is always named
  });

  it('saves the raw map as .f32, .json and 16-bit .png', async () => {
    const f32 = path.join(dir, 'm.f32');
    const js = path.join(dir, 'm.json');
    const png = path.join(dir, 'm.png');
    for (const m of [f32, js, png]) {
      const r = await cli([FRAME, ...FAST, '-o', path.join(dir, 'o3.png'), '--save-map', m]);
      expect(r.code).toBe(0);
    }
    const a = readF32(f32);
    expect(a.length).toBe(455 * 256);
    const j = JSON.parse(readFileSync(js, 'utf8'));
    expect([j.width, j.height, j.data.length]).toEqual([455, 256, 455 * 256]);
    expect(Math.abs(j.data[1000] - a[1000])).toBeLessThan(1e-6);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.depth, meta.channels]).toEqual([455, 256, 'ushort', 1]);
    const text = Object.fromEntries((meta.comments ?? []).map((c) => [c.keyword, c.text])); // the PNG's tEXt chunks
    expect(Number(text['occlude:min'])).toBeCloseTo(Math.min(...a), 6);
    expect(Number(text['occlude:max'])).toBeCloseTo(Math.max(...a), 6);
  });

  it('applies softmax to outputs that are not probabilities, and says so', async () => {
    const r = await cli([path.join(dir, 'small.png'), '--model', path.join(dir, 'logits'), '--patch', '8', '--workers', '1', '-o', path.join(dir, 'o4.png'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.softmaxApplied).toBe(true);
    const total = Object.values(j.probabilities as Record<string, number>).reduce((s, p) => s + p, 0);
    expect(total).toBeCloseTo(1, 5);
    expect(j.labels).toEqual(['a', 'b', 'c']);
  });

  it('predict classifies without occluding', async () => {
    const r = await cli(['predict', FRAME, GREEN, '--json']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.class)).toEqual(['red', 'green']);
    expect(Object.keys(lines[0].probabilities)).toEqual(['none', 'red', 'green']);
    expect(lines[0].probability).toBeCloseTo(0.99362, 3);
    const text = await cli(['predict', FRAME]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/: red \(99\.36%\) .* backend (node|wasm|cpu)$/m);
  });
});

describe('bad input: one-line errors, documented exit codes, no partial output', () => {
  const cases: [string, () => string[], number, RegExp][] = [
    ['missing image', () => [path.join(dir, 'nope.jpg')], 1, /nope\.jpg: no such file/],
    ['corrupt image', () => [path.join(dir, 'corrupt.jpg')], 1, /corrupt\.jpg: not a readable image/],
    ['empty image', () => [path.join(dir, 'empty.jpg')], 1, /empty\.jpg: empty file/],
    ['missing model', () => [FRAME, '--model', path.join(dir, 'no-model')], 1, /no-model: model not found/],
    ['corrupt model', () => [FRAME, '--model', path.join(dir, 'bad-model.json')], 1, /bad-model\.json: .*not a readable model\.json/],
    ['model input not an image', () => [FRAME, '--model', path.join(dir, 'dense')], 1, /input is not an image/],
    ['unknown class', () => [FRAME, '--class', 'blue'], 2, /unknown class "blue"; the model's classes are none, red, green/],
    ['class index out of range', () => [FRAME, '--class', '3'], 2, /class index 3 is out of range/],
    ['patch 0', () => [FRAME, '--patch', '0'], 2, /Expected positive integer for patch but received "0"/],
    ['patch not an integer', () => [FRAME, '--patch', '2.5'], 2, /Expected positive integer for patch/],
    ['stride negative', () => [FRAME, '--stride', '-4'], 2, /Expected positive integer for stride/],
    ['patch larger than the image', () => [FRAME, '--patch', '300'], 2, /patch 300 is larger than the image \(455x256\)/],
    ['bad fill', () => [FRAME, '--fill', 'purple'], 2, /Expected number between 0 and 1, hex colour, mean or blur for fill/],
    ['bad range', () => [FRAME, '--range', '1,0'], 2, /Expected auto or LO,HI/],
    ['unwritable output', () => [FRAME, ...FAST, '-o', path.join(dir, 'no-such-dir', 'x.png')], 1, /cannot write .*x\.png: its folder does not exist/],
    ['too many pixels', () => [FRAME, '--max-pixels', '1000'], 1, /over the limit of/],
  ];
  for (const [name, args, code, message] of cases) {
    it(name, async () => {
      const before = readdirSync(dir).length;
      const r = await cli(args());
      expect(r.code).toBe(code);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n').length).toBe(1);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack without --debug
      expect(readdirSync(dir).length).toBe(before); // nothing left behind, no temp files
    });
  }

  it('one bad file among several: the others are still written, exit 1', async () => {
    const out = path.join(dir, 'batch');
    const r = await cli([FRAME, path.join(dir, 'corrupt.jpg'), ...FAST, '--out', out, '--json']);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].output).toBe(path.join(out, 'red-single.occlusion.png'));
    expect(lines[1]).toEqual({ image: path.join(dir, 'corrupt.jpg'), error: expect.stringMatching(/not a readable image/) });
    expect(existsSync(lines[0].output)).toBe(true);
  });

  it('--backend node: works when tfjs-node is installed, else says why in one line', async () => {
    const require = createRequire(import.meta.url);
    let installed = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      installed = false;
    }
    const r = await cli([FRAME, ...FAST, '--backend', 'node', '-o', path.join(dir, 'o5.png'), '--json']);
    if (installed) {
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).backend).toBe('node');
    } else {
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/tfjs-node is not installed/);
    }
  });
});

describe('the installed command, as a subprocess', () => {
  const node = process.execPath;
  it('runs the README example shape and exits 0', () => {
    const out = path.join(dir, 'sub.png');
    const p = spawnSync(node, [BIN, FRAME, '--class', 'red', '--patch', '128', '--stride', '64', '-o', out, '--json'], { encoding: 'utf8' });
    expect(p.status).toBe(0);
    const j = JSON.parse(p.stdout);
    expect(j.output).toBe(out);
    expect(existsSync(out)).toBe(true);
    expect(p.stderr).toBe(''); // no progress bar when stderr is not a TTY
  });

  it('starts its workers when node runs with V8 flags that workers refuse', () => {
    // e.g. `node --max-semi-space-size=4 --trace-gc $(which occlude) ...`: Node rejects such flags in a worker's execArgv
    const out = path.join(dir, 'v8flags.png');
    const args = ['--max-semi-space-size=4', '--stack-size=2000', BIN, FRAME, '--patch', '128', '--stride', '128', '--workers', '2', '-o', out, '--json'];
    const p = spawnSync(node, args, { encoding: 'utf8' });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('exits 2 on a usage error and 1 on a runtime error; --debug adds the stack', () => {
    const bad = spawnSync(node, [BIN, FRAME, '--patch', 'x'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    const missing = spawnSync(node, [BIN, path.join(dir, 'nope.jpg')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n').length).toBe(1);
    const debug = spawnSync(node, [BIN, path.join(dir, 'nope.jpg'), '--debug'], { encoding: 'utf8' });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('without --model and without the embedded model, fails with a clear message', () => {
    if (existsSync(path.join(ROOT, 'models', 'traffic-light', 'model.json'))) {
      const p = spawnSync(node, [BIN, 'predict', FRAME, '--json'], { encoding: 'utf8' });
      expect(p.status).toBe(0);
      expect(JSON.parse(p.stdout).model).toBe('embedded:traffic-light');
    } else {
      const p = spawnSync(node, [BIN, FRAME], { encoding: 'utf8' });
      expect(p.status).toBe(2);
      expect(p.stderr).toMatch(/the embedded model embedded:traffic-light is not installed/);
    }
  });
});

