import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { run } from '../dist/cli/program.js';
import { expandInputs } from '../dist/runs/inputs.js';
import { parseCsv, CSV_COLUMNS } from '../dist/report/summary.js';
import { ROOT, interrupt, tmpdir, runCli } from './helpers.js';

/**
 * Folder runs (issue #4) with the embedded model: six fixture frames (five red, one green) in one folder
 * (as symlinks, named so that they come before the bad files) plus a corrupt JPEG, an empty .jpg and a text file.
 */
const FAST = ['--patch', '128', '--stride', '128', '--workers', '1'];
const SOURCES = ['green-single.jpg', 'horizontal-red.jpg', 'night-red-double.jpg', 'night-red.jpg', 'red-single.jpg', 'red-triple.jpg'];
const FRAMES = SOURCES.map((f, i) => `${i}-${f}`);
const CLASS: Record<string, string> = Object.fromEntries(FRAMES.map((f) => [f, f.includes('green') ? 'green' : 'red']));
const fixture = (name: string) => path.join(ROOT, 'fixtures', SOURCES[FRAMES.indexOf(name)]);
let dir: string;
let frames: string;

const cli = runCli;

function walk(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
}
const overlaysIn = (d: string) => walk(d).filter((f) => f.endsWith('.occlusion.png'));
const tempFilesIn = (d: string) => walk(d).filter((f) => /\.tmp$/.test(f) || path.basename(f).startsWith('.'));

beforeAll(() => {
  dir = tmpdir('occlude-folder-');
  frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (const f of FRAMES) symlinkSync(fixture(f), path.join(frames, f));
  const one = readFileSync(fixture(FRAMES[0]));
  writeFileSync(path.join(frames, 'corrupt.jpg'), Buffer.concat([one.subarray(0, 300), Buffer.alloc(64, 0x55)]));
  writeFileSync(path.join(frames, 'empty.jpg'), '');
  writeFileSync(path.join(frames, 'notes.txt'), 'not an image\n');
});

describe('folder run on fixture frames with bad files added', () => {
  let out: string;
  let first: { code: number; out: string; err: string };

  beforeAll(async () => {
    out = path.join(dir, 'results');
    first = await cli([frames, ...FAST, '--out', out, '--json']);
  });

  it('gives 6 overlays, 2 error entries and exit code 1', async () => {
    expect(first.code).toBe(1);
    const lines = first.out.trim().split('\n').map((l) => JSON.parse(l)); // stdout is JSON lines only
    expect(lines.length).toBe(8);
    const errors = lines.filter((l) => l.error);
    expect(errors.map((e) => path.basename(e.image)).sort()).toEqual(['corrupt.jpg', 'empty.jpg']);
    for (const e of errors) expect(Object.keys(e).sort()).toEqual(['error', 'image']);
    expect(errors.find((e) => e.image.endsWith('corrupt.jpg')).error).toMatch(/not a readable image/);
    expect(errors.find((e) => e.image.endsWith('empty.jpg')).error).toMatch(/empty file/);
    const ok = lines.filter((l) => !l.error);
    expect(ok.map((l) => path.basename(l.image)).sort()).toEqual(FRAMES);
    expect(overlaysIn(out).length).toBe(6);
    for (const l of ok) {
      expect(existsSync(l.output)).toBe(true);
      const meta = await sharp(l.output).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 455, 256]);
    }
    expect(first.err).toMatch(/skipped 1 file\(s\) that are not images/);
    expect(tempFilesIn(out)).toEqual([]);
  });

  it('writes summary.csv and summary.jsonl with complete rows', () => {
    const csv = parseCsv(readFileSync(path.join(out, 'summary.csv'), 'utf8'));
    expect(csv[0]).toEqual([...CSV_COLUMNS]);
    const rows = csv.slice(1).map((r) => Object.fromEntries(csv[0].map((k, i) => [k, r[i]])));
    const jsonl = readFileSync(path.join(out, 'summary.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBe(8);
    expect(jsonl.length).toBe(8);
    for (const [i, r] of rows.entries()) {
      const j = jsonl[i];
      expect(r.image).toBe(j.image);
      const name = path.basename(r.image);
      if (name === 'corrupt.jpg' || name === 'empty.jpg') {
        expect(r.error).not.toBe('');
        expect(j.error).toBe(r.error);
        for (const k of ['predicted', 'probability', 'class', 'min_probability', 'min_left', 'output']) expect(r[k]).toBe('');
        continue;
      }
      expect(r.error).toBe('');
      expect(j.error).toBeNull();
      for (const k of CSV_COLUMNS.filter((c) => c !== 'error')) expect(r[k], `${name} ${k}`).not.toBe('');
      expect(r.predicted).toBe(CLASS[name]); // five red, one green
      expect(r.class).toBe(r.predicted);
      const p = Number(r.probability);
      const mp = Number(r.min_probability);
      expect(p).toBeGreaterThan(0.9);
      expect(mp).toBeLessThanOrEqual(Number(r.class_probability) + 1e-6);
      expect(Number(r.min_width)).toBeGreaterThan(0);
      expect(Number(r.seconds)).toBeGreaterThan(0);
      expect(existsSync(path.join(out, r.output))).toBe(true);
      expect(j.minPatch).toEqual({ left: Number(r.min_left), top: Number(r.min_top), width: Number(r.min_width), height: Number(r.min_height) });
      expect(j.minProbability).toBeCloseTo(mp, 12);
    }
  });

  it('--resume redoes nothing that is complete (the failed images are tried again)', async () => {
    const mtimes = overlaysIn(out).map((f) => statSync(f).mtimeMs);
    const summaryBefore = readFileSync(path.join(out, 'summary.csv'), 'utf8');
    const page = path.join(out, 'index.html');
    const again = await cli([frames, ...FAST, '--out', out, '--json', '--resume', '--report', page]);
    expect(again.code).toBe(1);
    // the page lists the resumed images too
    const data = JSON.parse(/<script type="application\/json" id="data">(.*?)<\/script>/s.exec(readFileSync(page, 'utf8'))![1]);
    expect(data.entries.length).toBe(8);
    expect(data.entries.filter((e: { overlay: string | null }) => e.overlay).length).toBe(6);
    expect(again.err).toMatch(/resuming: 6 of 8 image\(s\) already done/);
    const lines = again.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.every((l) => l.error)).toBe(true); // only the two bad files ran again
    expect(lines.length).toBe(2);
    expect(overlaysIn(out).map((f) => statSync(f).mtimeMs)).toEqual(mtimes);
    expect(readFileSync(path.join(out, 'summary.csv'), 'utf8')).toBe(summaryBefore);
  });

  it('--resume redoes an image whose overlay is missing, and only that one', async () => {
    const victim = overlaysIn(out).sort()[0];
    unlinkSync(victim);
    const again = await cli([frames, ...FAST, '--out', out, '--json', '--resume']);
    const lines = again.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => !l.error).map((l) => l.output)).toEqual([victim]);
    expect(existsSync(victim)).toBe(true);
    expect(readFileSync(path.join(out, 'summary.jsonl'), 'utf8').trim().split('\n').length).toBe(8);
  });

  it('--resume without --out is a usage error', async () => {
    const r = await cli([frames, '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--resume needs --out/);
  });
});

describe('interrupted run (Ctrl-C) and the progress bar', () => {
  it('stops mid-image, keeps what was done, and leaves no partial file', async () => {
    const out = path.join(dir, 'interrupted');
    const controller = new AbortController();
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: {
        write: (s: string) => {
          stdout += s;
          return true;
        },
      },
      // a terminal, so that the progress bar runs: abort while the second image is in progress
      stderr: {
        isTTY: true,
        columns: 200,
        write: (s: string) => {
          stderr += s;
          if (stdout.includes('\n') && /image 2\/8/.test(s)) controller.abort();
          return true;
        },
      },
      env: {},
      signal: controller.signal,
    };
    const code = await run([frames, '--patch', '128', '--stride', '64', '--workers', '1', '--batch-size', '4', '--out', out, '--json'], io);
    expect(controller.signal.aborted).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: 1 of 8 image\(s\) done/);
    // the bar went to stderr: images, variants per second and an ETA; stdout has JSON lines only
    expect(stderr).toMatch(/image 1\/8 \(0 done, 8 to do\) .*variants .*\/s +ETA (\d+m)?\d+s/);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(1);
    expect(overlaysIn(out)).toEqual([lines[0].output]);
    expect(tempFilesIn(out)).toEqual([]);
    const meta = await sharp(lines[0].output).metadata();
    expect(meta.width).toBe(455);
    const summary = readFileSync(path.join(out, 'summary.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(summary.map((r) => r.image)).toEqual([lines[0].image]);
  });

  it('the installed command stops on SIGINT with exit code 130 and no partial file', async () => {
    const out = path.join(dir, 'sigint');
    // patch 32 / stride 16 and batches of 2: each image takes long enough with the (fast) embedded model
    // one Ctrl-C, 300 ms after the first image's line: during the second image
    const { code, out: stdout, err: stderr } = await interrupt([frames, '--patch', '32', '--stride', '16', '--workers', '1', '--batch-size', '2', '--out', out, '--json'], 'SIGINT', 300);
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: \d of 8 image\(s\) done/);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeLessThan(8);
    expect(overlaysIn(out).sort()).toEqual(lines.filter((l) => l.output).map((l) => l.output).sort());
    expect(tempFilesIn(out)).toEqual([]);
    const summary = readFileSync(path.join(out, 'summary.jsonl'), 'utf8').trim().split('\n');
    expect(summary.length).toBe(lines.length);
  });

  it('--quiet turns the bar off', async () => {
    let stderr = '';
    const io = { stdout: { write: () => true }, stderr: { isTTY: true, write: (s: string) => (stderr += s) }, env: {} };
    const code = await run([path.join(frames, FRAMES[0]), ...FAST, '--out', path.join(dir, 'quiet'), '--quiet'], io);
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('output names mirror the input paths', () => {
  it('two a.jpg in different folders get different outputs', async () => {
    const x = path.join(dir, 'names', 'day');
    const y = path.join(dir, 'names', 'night');
    mkdirSync(x, { recursive: true });
    mkdirSync(y, { recursive: true });
    symlinkSync(fixture(FRAMES[0]), path.join(x, 'a.jpg'));
    symlinkSync(fixture(FRAMES[1]), path.join(y, 'a.jpg'));
    symlinkSync(fixture(FRAMES[2]), path.join(y, 'b.jpg'));
    const inputs = await expandInputs([x, y, path.join(y, 'a.jpg')], false);
    expect(inputs.files.map((f: { relative: string }) => f.relative)).toEqual([path.join('day', 'a.jpg'), path.join('night', 'a.jpg'), path.join('night', 'b.jpg')]);
    symlinkSync(fixture(FRAMES[3]), path.join(y, 'b.png'));
    const ext = await expandInputs([y], false);
    expect(ext.files.map((f: { relative: string }) => f.relative)).toEqual(['a.jpg', 'b.jpg.jpg', 'b.png.png']); // -> b.jpg.occlusion.png, b.png.occlusion.png
    unlinkSync(path.join(y, 'b.png'));
    // without a clash, names stay relative to each argument
    const single = await expandInputs([y], false);
    expect(single.files.map((f: { relative: string }) => f.relative)).toEqual(['a.jpg', 'b.jpg']);
    const out = path.join(dir, 'names-out');
    const r = await cli([x, y, ...FAST, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(overlaysIn(out).map((f) => path.relative(out, f)).sort()).toEqual([path.join('day', 'a.occlusion.png'), path.join('night', 'a.occlusion.png'), path.join('night', 'b.occlusion.png')]);
  });
});
