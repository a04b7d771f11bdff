import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { confusion, confusionText, readLabels } from '../dist/report/review.js';
import { DASHCAM, reference, shared, tmpdir, runCli } from './helpers.js';

/** `occlude review` on the six labelled dash-cam frames, with one label made wrong on purpose. */
const ref = reference();
const INJECTED = '8f91ad839076f24d6a0e27029f07d2c0.jpg'; // a red light, labelled "none" below
const FAST = ['--patch', '128', '--stride', '128', '--workers', '1'];
let SEED: string;
let dir: string;

const cli = runCli;

beforeAll(() => {
  SEED = shared('seed-model', 'nexar-squeezenet-a');
  dir = tmpdir('occlude-review-');
  const rows = Object.entries(ref.frames).map(([name, f]) => `${name},${name === INJECTED ? 'none' : f.class}`);
  writeFileSync(path.join(dir, 'labels.csv'), ['image,class', ...rows].join('\n') + '\n');
});

describe('occlude review', () => {
  let r: { code: number; out: string; err: string };
  let out: string;
  beforeAll(async () => {
    out = path.join(dir, 'review');
    r = await cli(['review', DASHCAM, '--labels', path.join(dir, 'labels.csv'), '--out', out, '--model', SEED, ...FAST]);
  });

  it('classifies every frame and prints the confusion matrix', () => {
    expect(r.code).toBe(0);
    expect(r.out).toContain('true \\ predicted  none  red  green');
    expect(r.out).toMatch(/^none\s+0\s+1\s+0$/m);
    expect(r.out).toMatch(/^red\s+0\s+4\s+0$/m);
    expect(r.out).toMatch(/^green\s+0\s+0\s+1$/m);
    expect(r.out).toContain('5 of 6 correct (83.3%)');
    expect(r.out).toMatch(/^backend: (node|wasm|cpu)$/m);
  });

  it('writes confusion.json and finds the injected mistake, grouped as none→red', () => {
    const c = JSON.parse(readFileSync(path.join(out, 'confusion.json'), 'utf8'));
    expect(c.labels).toEqual(['none', 'red', 'green']);
    expect(c.matrix).toEqual([
      [0, 1, 0],
      [0, 4, 0],
      [0, 0, 1],
    ]);
    expect(c.frames.length).toBe(6);
    expect(c.mistakes.length).toBe(1);
    const m = c.mistakes[0];
    expect(path.basename(m.image)).toBe(INJECTED);
    expect([m.truth, m.predicted, m.pair]).toEqual(['none', 'red', 'none→red']);
    expect(c.groups).toEqual([expect.objectContaining({ pair: 'none→red', description: 'a red traffic light where there is none' })]);
    expect(m.predictedMap.class).toBe('red');
    expect(m.trueMap.class).toBe('none');
    expect(m.output).toBe(path.join(out, 'none-as-red', INJECTED.replace('.jpg', '.review.png')));
    expect(r.out).toContain('none→red: a red traffic light where there is none (1)');
  });

  it('writes the two heat-maps side by side in one PNG, and the page', async () => {
    const png = path.join(out, 'none-as-red', INJECTED.replace('.jpg', '.review.png'));
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 455 * 2 + 8, 256]);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('none-as-red/8f91ad839076f24d6a0e27029f07d2c0.review.png');
    expect(html).toContain('"group":"none→red"');
  });

  it('--json prints the confusion document', async () => {
    const j = await cli(['review', path.join(DASHCAM, INJECTED), path.join(DASHCAM, 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg'), '--labels', path.join(dir, 'labels.csv'), '--out', path.join(dir, 'review-json'), '--model', SEED, ...FAST, '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out);
    expect(doc.total).toBe(2);
    expect(doc.backend).toMatch(/^(node|wasm|cpu)$/);
    expect(doc.mistakes.map((m: { pair: string }) => m.pair)).toEqual(['none→red']);
    expect(existsSync(doc.report)).toBe(true);
  });

  it('a class the model does not have is a usage error; frames without a label are left out with a warning', async () => {
    writeFileSync(path.join(dir, 'odd.csv'), 'image,class\na5af6bd86cf1ee6a2ce4a539ace787f8.jpg,yellow\n');
    const bad = await cli(['review', DASHCAM, '--labels', path.join(dir, 'odd.csv'), '--out', path.join(dir, 'r2'), '--model', SEED, ...FAST]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown class "yellow"; the model's classes are none, red, green/);
    writeFileSync(path.join(dir, 'one.csv'), 'class,image\nred,a5af6bd86cf1ee6a2ce4a539ace787f8.jpg\n');
    const part = await cli(['review', DASHCAM, '--labels', path.join(dir, 'one.csv'), '--out', path.join(dir, 'r3'), '--model', SEED, ...FAST]);
    expect(part.code).toBe(0);
    expect(part.err).toMatch(/5 frame\(s\) not in .*one\.csv, left out/);
    expect(part.out).toContain('1 of 1 correct');
  });

  it('labels.csv parsing and the matrix text', async () => {
    writeFileSync(path.join(dir, 'q.csv'), '\ufeffimage,class,note\r\n"a, b.jpg",red,"x ""y"""\r\nc.jpg,none,\r\n');
    const rows = await readLabels(path.join(dir, 'q.csv'));
    expect(rows.map((x: { image: string; class: string }) => [x.image, x.class])).toEqual([
      ['a, b.jpg', 'red'],
      ['c.jpg', 'none'],
    ]);
    const c = confusion(['none', 'red'], [{ truth: 'red', predicted: 'none' }, { truth: 'red', predicted: 'red' }]);
    expect(c.matrix).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(confusionText(c)).toContain('1 of 2 correct (50.0%)');
  });
});
