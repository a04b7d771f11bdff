import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { BIN, ROOT, smallModel, tmpdir, runCli } from './helpers.js';

/**
 * Issue #17, defects 4 and 5: an --out folder records its run's settings (run.json) and a resume with
 * other settings is refused; a lock keeps a second run out while one writes into it (a stale lock is
 * recovered); a later run merges its rows into the summary by image path.
 */
const FAST = ['--patch', '128', '--stride', '128', '--workers', '1'];
const FIX = ['red-single.jpg', 'green-single.jpg', 'no-light.jpg', 'red-triple.jpg'];
let dir: string;
let frames: string;
let other: string;

const frame = (f: string) => path.join(frames, f);
const summary = (out: string) => readFileSync(path.join(out, 'summary.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

beforeAll(async () => {
  dir = tmpdir('occlude-out-');
  frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (const f of FIX) copyFileSync(path.join(ROOT, 'fixtures', f), frame(f));
  other = await smallModel(path.join(dir, 'other'), 3, { labels: ['none', 'red', 'green'] });
});

describe('run.json: a resume with other settings is a usage error', () => {
  let out: string;
  beforeAll(async () => {
    out = path.join(dir, 'settings');
    const r = await runCli([frame(FIX[0]), frame(FIX[1]), ...FAST, '--class', 'red', '--out', out]);
    expect(r.code).toBe(0);
  });

  it('records the model (path and sha256 of model.json and weights), class, patch, stride, fill, mode and preprocessing', () => {
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run.settings).toEqual({
      model: { path: 'embedded:traffic-light', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      labels: ['none', 'red', 'green'],
      class: 'red',
      patch: 128,
      stride: 128,
      fill: '0.5',
      mode: 'prob',
      iterate: 1,
      input: { size: [256, 455], fit: 'width', channels: 3, resize: null, crop: 'none', range: [0, 1], mean: null, std: null, order: 'rgb' },
    });
  });

  it('the same settings resume (class given as an index counts as the same)', async () => {
    const r = await runCli([frame(FIX[0]), frame(FIX[1]), ...FAST, '--class', '1', '--out', out, '--resume']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('occlude: resuming: 2 of 2 image(s) already done\n');
  });

  it('patch, model and class changed: exit 2, naming each', async () => {
    const r = await runCli([frame(FIX[0]), frame(FIX[1]), '--patch', '32', '--workers', '1', '--model', other, '--class', 'green', '--out', out, '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(
        `^occlude: ${path.join(out, 'run.json')}: this folder holds results of other settings: ` +
          `model ${path.resolve(other)} \\(sha256 [0-9a-f]{12}\\) \\(was embedded:traffic-light, sha256 [0-9a-f]{12}\\), ` +
          `class green \\(was red\\), patch 32 \\(was 128\\), stride 16 \\(was 128\\), preprocessing size 32x32 \\(was 256x455\\), preprocessing fit stretch \\(was width\\); use the same settings, or another --out\\n$`,
      ),
    );
    expect(summary(out).length).toBe(2); // nothing was touched
  });

  it('the preprocessing, the fill and the mode count too; a run without --resume is refused as well', async () => {
    const r = await runCli([frame(FIX[0]), ...FAST, '--class', 'red', '--input-range', '0,255', '--fill', 'blur', '--mode', 'drop', '--out', out, '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('fill blur (was 0.5), mode drop (was prob), preprocessing range 0,255 (was 0,1)');
    const fresh = await runCli([frame(FIX[2]), ...FAST, '--out', out]);
    expect(fresh.code).toBe(2);
    expect(fresh.err).toContain('class the predicted class (was red)');
  });

  it('a folder of an older occlude (a summary, no run.json) is resumed with a warning, and gets its run.json', async () => {
    const o3 = path.join(dir, 'older');
    expect((await runCli([frame(FIX[0]), ...FAST, '--out', o3])).code).toBe(0);
    unlinkSync(path.join(o3, 'run.json'));
    const r = await runCli([frame(FIX[0]), ...FAST, '--out', o3, '--resume']);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`occlude: ${path.join(o3, 'run.json')} is missing (a folder of an older occlude): the settings of its 1 row(s) cannot be checked\nocclude: resuming: 1 of 1 image(s) already done\n`);
    expect(existsSync(path.join(o3, 'run.json'))).toBe(true);
  });

  it('a model changed in place (same path, other weights) is another model', async () => {
    const copy = path.join(dir, 'copy');
    mkdirSync(copy);
    for (const f of ['model.json', 'weights.bin', 'occlude.json']) copyFileSync(path.join(other, f), path.join(copy, f));
    const o2 = path.join(dir, 'changed');
    expect((await runCli([frame(FIX[0]), ...FAST, '--model', copy, '--out', o2])).code).toBe(0);
    const w = readFileSync(path.join(copy, 'weights.bin'));
    w[0] ^= 0xff;
    writeFileSync(path.join(copy, 'weights.bin'), w);
    const r = await runCli([frame(FIX[0]), ...FAST, '--model', copy, '--out', o2, '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`model ${copy} \\(sha256 ([0-9a-f]{12})\\) \\(was ${copy}, sha256 (?!\\1)[0-9a-f]{12}\\)`));
  });
});

describe('rows of several runs into one folder are merged by image path', () => {
  it('a later run with other inputs (with or without --resume) keeps the earlier rows', async () => {
    const out = path.join(dir, 'merge');
    expect((await runCli([frame(FIX[0]), frame(FIX[1]), ...FAST, '--out', out])).code).toBe(0);
    expect((await runCli([frame(FIX[2]), ...FAST, '--out', out])).code).toBe(0);
    expect(summary(out).map((r) => path.basename(r.image))).toEqual([FIX[0], FIX[1], FIX[2]]);
    const page = path.join(out, 'index.html');
    const r = await runCli([frame(FIX[0]), frame(FIX[3]), ...FAST, '--out', out, '--resume', '--report', page]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('occlude: resuming: 1 of 2 image(s) already done\n');
    expect(summary(out).map((s) => path.basename(s.image))).toEqual(FIX);
    const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(5);
    expect(readFileSync(page, 'utf8')).toContain('4 image(s), 0 error(s)');
  });

  it('an input whose overlay would overwrite an earlier row\'s (another image of the same name) is refused', async () => {
    const out = path.join(dir, 'clash');
    expect((await runCli([frame(FIX[0]), ...FAST, '--out', out])).code).toBe(0);
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    copyFileSync(frame(FIX[1]), path.join(elsewhere, FIX[0]));
    const r = await runCli([path.join(elsewhere, FIX[0]), ...FAST, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `occlude: ${path.join(out, 'red-single.occlusion.png')} is the overlay of ${frame(FIX[0])} (in ${path.join(out, 'summary.jsonl')}); ${path.join(elsewhere, FIX[0])} would overwrite it: use another --out\n`,
    );
  });
});

describe('a lock keeps a second run out of the folder', () => {
  const lockOf = (out: string) => path.join(out, '.occlude.lock');

  it('a second concurrent run exits 2 naming the lock and the holder\'s pid; the first finishes alone', async () => {
    const out = path.join(dir, 'locked');
    const first = spawn(process.execPath, [BIN, frames, '--patch', '32', '--stride', '16', '--workers', '1', '--batch-size', '2', '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => first.on('exit', (c) => resolve(c)));
    for (let i = 0; i < 200 && !existsSync(lockOf(out)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lockOf(out))).toBe(true);
    const second = spawnSync(process.execPath, [BIN, frame(FIX[0]), ...FAST, '--out', out], { encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(2);
    expect(second.stderr).toBe(`occlude: ${lockOf(out)}: another occlude run (pid ${first.pid} on ${os.hostname()}) is writing into ${out}; wait for it to end, or use another --out\n`);
    first.kill('SIGTERM'); // no need to wait for all of it
    expect(await exited).toBe(143);
    expect(existsSync(lockOf(out))).toBe(false);
  });

  it('a stale lock (its process is gone, e.g. after kill -9) is recovered, and the run says so', async () => {
    const out = path.join(dir, 'stale');
    const victim = spawn(process.execPath, [BIN, frames, '--patch', '32', '--stride', '16', '--workers', '1', '--out', out], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(lockOf(out)); i++) await new Promise((r) => setTimeout(r, 50));
    victim.kill('SIGKILL');
    await new Promise((r) => victim.on('exit', r));
    expect(existsSync(lockOf(out))).toBe(true);
    const r = await runCli([frame(FIX[0]), ...FAST, '--out', out, '--resume']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(new RegExp(`^occlude: ${lockOf(out).replace(/\./g, '\\.')}: removed the stale lock of pid ${victim.pid} \\(no such process\\)\\n`));
    expect(existsSync(lockOf(out))).toBe(false);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('in-process, a second run while the first holds the lock is refused too', async () => {
    const out = path.join(dir, 'inproc');
    const a = runCli([frames, ...FAST, '--out', out]);
    for (let i = 0; i < 200 && !existsSync(lockOf(out)); i++) await new Promise((r) => setTimeout(r, 10));
    const b = await runCli([frame(FIX[0]), ...FAST, '--out', out]);
    expect(b.code).toBe(2);
    expect(b.err).toContain(`another occlude run (pid ${process.pid} on ${os.hostname()})`);
    expect((await a).code).toBe(0);
  });
});
