import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runFolder } from '../dist/runs/folder.js';
import { runPredict } from '../dist/runs/predict.js';
import { runReview } from '../dist/runs/review.js';
import { runCheck } from '../dist/runs/check.js';
import { ROOT, tmpdir } from './helpers.js';

/**
 * The workflows as library functions: typed options in, events while they work, a typed result out.
 * None of them prints or exits: process.stdout and process.stderr stay untouched.
 */
const FIX = (f: string) => path.join(ROOT, 'fixtures', f);
const FAST = { patch: 128, stride: 128, workers: 1 };
let dir: string;
let frames: string;

beforeAll(() => {
  dir = tmpdir('occlude-runs-');
  frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (const f of ['red-single.jpg', 'green-single.jpg']) copyFileSync(FIX(f), path.join(frames, f));
  writeFileSync(path.join(frames, 'broken.jpg'), 'not a jpeg');
  writeFileSync(path.join(frames, 'notes.txt'), 'not an image');
});

/** Fail the test if anything reaches the process's own stdout or stderr. */
function silent() {
  const out = vi.spyOn(process.stdout, 'write');
  const err = vi.spyOn(process.stderr, 'write');
  return () => {
    expect(out).not.toHaveBeenCalled();
    expect(err).not.toHaveBeenCalled();
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('runFolder', () => {
  it('an --out folder: results, a failure and notices as events; rows, counts and files as the result', async () => {
    const check = silent();
    const seen: string[] = [];
    const out = path.join(dir, 'out');
    const r = await runFolder(
      { inputs: [frames], out, report: path.join(out, 'index.html'), class: 'red', ...FAST },
      {
        session: (s) => seen.push(`session ${s.labels.join(',')}`),
        notice: (m) => seen.push(`notice ${m}`),
        result: (res, files) => seen.push(`result ${path.basename(res.image)} ${res.class} ${path.basename(files.output!)}`),
        failure: (f) => seen.push(`failure ${path.basename(f.image)} ${f.error.kind} of ${f.of}`),
      },
    );
    check();
    expect(seen).toEqual([
      'notice skipped 1 file(s) that are not images',
      'session none,red,green',
      'failure broken.jpg runtime of 3',
      'result green-single.jpg red green-single.occlusion.png',
      'result red-single.jpg red red-single.occlusion.png',
    ]);
    expect(r).toMatchObject({ images: 3, done: 2, failed: 1, resumed: 0, stopped: null, interrupted: false, summary: path.join(out, 'summary.csv') });
    expect(r.rows.map((x: { image: string; error: string | null }) => [path.basename(x.image), x.error === null])).toEqual([['broken.jpg', false], ['green-single.jpg', true], ['red-single.jpg', true]]);
    expect(['summary.csv', 'summary.jsonl', 'run.json', 'index.html', 'red-single.occlusion.png'].every((f) => existsSync(path.join(out, f)))).toBe(true);
    const again = await runFolder({ inputs: [frames], out, class: 'red', resume: true, ...FAST });
    expect(again).toMatchObject({ done: 2, failed: 1, resumed: 2 });
  });

  it('usage errors throw (an OccludeError of kind usage), before any model is loaded', async () => {
    await expect(runFolder({ inputs: [frames], patch: 8, stride: 64 })).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/for stride but received 64/) });
    await expect(runFolder({ inputs: [path.join(dir, 'nothing-*.jpg')] })).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/no image matches this pattern/) });
  });

  it('a signal stops it; the result says so', async () => {
    const controller = new AbortController();
    const r = await runFolder({ inputs: [frames], ...FAST, patch: 32, stride: 16, batchSize: 2, out: path.join(dir, 'stopped'), signal: controller.signal }, { progress: () => controller.abort() });
    expect(r.interrupted).toBe(true);
    expect(r.rows.length).toBeLessThan(3);
  });
});

describe('runPredict, runReview, runCheck', () => {
  it('runPredict: a prediction per image, a failure per bad one', async () => {
    const check = silent();
    const classes: string[] = [];
    const r = await runPredict({ inputs: [frames], workers: 1 }, { prediction: (p) => classes.push(p.class) });
    check();
    expect(classes).toEqual(['green', 'red']);
    expect(r.failed).toBe(1);
  });

  it('runReview: the confusion document, its files and the page', async () => {
    const check = silent();
    writeFileSync(path.join(dir, 'labels.csv'), 'image,class\nred-single.jpg,none\ngreen-single.jpg,green\n');
    const notices: string[] = [];
    const r = await runReview({ inputs: [path.join(frames, 'red-single.jpg'), path.join(frames, 'green-single.jpg')], labelsFile: path.join(dir, 'labels.csv'), out: path.join(dir, 'review'), ...FAST }, { notice: (m) => notices.push(m) });
    check();
    expect(notices).toEqual([]);
    expect(r.result).toMatchObject({ total: 2, correct: 1, labels: ['none', 'red', 'green'] });
    expect(r.result.mistakes.map((m: { pair: string }) => m.pair)).toEqual(['none→red']);
    expect(existsSync(r.result.mistakes[0].output)).toBe(true);
    expect([existsSync(r.confusion), existsSync(r.report)]).toEqual([true, true]);
  });

  it('runCheck: an outcome per case and the counts; JUnit on request', async () => {
    const check = silent();
    const m = path.join(dir, 'manifest.json');
    writeFileSync(m, JSON.stringify({ patch: 64, stride: 32, cases: [{ image: 'frames/red-single.jpg', class: 'red', evidence: [{ left: 195, top: 55, width: 55, height: 75 }] }, { image: 'frames/green-single.jpg', class: 'red' }] }));
    const lines: string[] = [];
    const r = await runCheck({ manifests: [m], workers: 1, junit: path.join(dir, 'junit.xml') }, { outcome: (o) => lines.push(`${o.pass ? 'PASS' : 'FAIL'} ${o.name}`) });
    check();
    expect(lines).toEqual(['PASS frames/red-single.jpg', 'FAIL frames/green-single.jpg']);
    expect(r).toMatchObject({ passed: 1, failed: 1, notRun: 0, interrupted: false });
    expect(r.backend).toMatch(/^(node|wasm|cpu)$/);
    expect(existsSync(path.join(dir, 'junit.xml'))).toBe(true);
  });
});
