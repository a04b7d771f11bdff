import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { confusion, confusionText, readLabels } from '../dist/report/review.js';
import { ROOT, tmpdir, runCli } from './helpers.js';

/** `occlude review` with the embedded model on six labelled fixture frames, with one label made wrong on purpose. */
const CLASSES: Record<string, string> = { 'green-single.jpg': 'green', 'horizontal-red.jpg': 'red', 'night-red-double.jpg': 'red', 'night-red.jpg': 'red', 'red-single.jpg': 'red', 'red-triple.jpg': 'red' };
const INJECTED = 'red-single.jpg'; // a red light, labelled "none" below
const OTHER = 'red-triple.jpg';
const FAST = ['--patch', '128', '--stride', '128', '--workers', '1'];
let dir: string;
let frames: string;

const cli = runCli;

beforeAll(() => {
  dir = tmpdir('occlude-review-');
  frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (const name of Object.keys(CLASSES)) copyFileSync(path.join(ROOT, 'fixtures', name), path.join(frames, name));
  const rows = Object.entries(CLASSES).map(([name, cls]) => `${name},${name === INJECTED ? 'none' : cls}`);
  writeFileSync(path.join(dir, 'labels.csv'), ['image,class', ...rows].join('\n') + '\n');
});

describe('occlude review', () => {
  let r: { code: number; out: string; err: string };
  let out: string;
  beforeAll(async () => {
    out = path.join(dir, 'review');
    r = await cli(['review', frames, '--labels', path.join(dir, 'labels.csv'), '--out', out, ...FAST]);
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
    expect(html).toContain('none-as-red/red-single.review.png');
    expect(html).toContain('"group":"none→red"');
  });

  it('--json prints the confusion document', async () => {
    const j = await cli(['review', path.join(frames, INJECTED), path.join(frames, OTHER), '--labels', path.join(dir, 'labels.csv'), '--out', path.join(dir, 'review-json'), ...FAST, '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out);
    expect(doc.total).toBe(2);
    expect(doc.backend).toMatch(/^(node|wasm|cpu)$/);
    expect(doc.mistakes.map((m: { pair: string }) => m.pair)).toEqual(['none→red']);
    expect(existsSync(doc.report)).toBe(true);
  });

  it('a class the model does not have is a usage error; frames without a label are left out with a warning', async () => {
    writeFileSync(path.join(dir, 'odd.csv'), `image,class\n${OTHER},yellow\n`);
    const bad = await cli(['review', frames, '--labels', path.join(dir, 'odd.csv'), '--out', path.join(dir, 'r2'), ...FAST]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown class "yellow"; the model's classes are none, red, green/);
    writeFileSync(path.join(dir, 'one.csv'), `class,image\nred,${OTHER}\n`);
    const part = await cli(['review', frames, '--labels', path.join(dir, 'one.csv'), '--out', path.join(dir, 'r3'), ...FAST]);
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
