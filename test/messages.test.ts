import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { constants as fsc, copyFileSync, existsSync, mkdirSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import '@tensorflow/tfjs-backend-cpu';
import { ROOT, smallModel, tmpdir, runCli } from './helpers.js';

/** Issue #17, defect 8: exit codes and messages. */
const FIX = (f: string) => path.join(ROOT, 'fixtures', f);
const FAST = ['--patch', '128', '--stride', '128', '--workers', '1'];
let dir: string;
let cropModel: string;

/** An errno error as the fs functions throw it. */
function errno(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  const text: Record<string, string> = { EROFS: 'read-only file system', ENOSPC: 'no space left on device', ENOENT: 'no such file or directory' };
  return Object.assign(new Error(`${code}: ${text[code]}, ${syscall} '${file}'`), { code, syscall, path: file });
}

beforeAll(async () => {
  dir = tmpdir('occlude-msg-');
  await sharp({ create: { width: 20, height: 20, channels: 3, background: '#808080' } }).jpeg().toFile(path.join(dir, 'small.jpg'));
  // a model that takes the centre 32x32 crop of a frame, without resizing it first
  cropModel = await smallModel(path.join(dir, 'crop-model'), 2, { labels: ['a', 'b'], input: { crop: 'center' } });
});

/** Make every write of a file whose path holds `part` fail with ENOSPC (other writes go through); returns how many failed. */
function fullDiskFor(part: string): { failed: number } {
  const count = { failed: 0 };
  const real = fsp.writeFile.bind(fsp);
  vi.spyOn(fsp, 'writeFile').mockImplementation(async (p, data) => {
    if (String(p).includes(part)) {
      count.failed++;
      throw errno('ENOSPC', 'write', String(p));
    }
    return real(p as string, data as string);
  });
  return count;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('usage and help', () => {
  it('no arguments: the usage on stderr and exit 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Usage: occlude /);
    expect(r.err).toMatch(/occlude: no image given\n$/);
  });

  it('--help lists the exit codes of interruptions (130, 143, 129)', async () => {
    const r = await runCli(['--help']);
    expect(r.out).toMatch(/Exit codes: 0 ok, 1 runtime failure .*, 2 usage error,\s+130 interrupted \(Ctrl-C\), 143 SIGTERM, 129 SIGHUP/s);
  });

  it('check --help: --json prints one object per case', async () => {
    const r = await runCli(['check', '--help']);
    expect(r.out).toMatch(/--json\s+one JSON object per case on stdout/);
    expect(r.out).not.toMatch(/per image/);
  });

  it('-v prints the batch size', async () => {
    const r = await runCli([FIX('red-single.jpg'), ...FAST, '-o', path.join(dir, 'v.png'), '-v', '--batch-size', '3']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/workers: 1; batch size: 3 variants per forward pass/);
  });

  it('--max-pixels 10: the limit and the image are given in pixels', async () => {
    const r = await runCli([FIX('red-single.jpg'), '--max-pixels', '10']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${FIX('red-single.jpg')}: image is 455x256 (116480 pixels), over the limit of 10 pixels; raise it with --max-pixels\n`);
  });
});

describe('one odd image in a folder run is that image\'s error: the run goes on, exit 1', () => {
  it('an image smaller than the patch', async () => {
    const frames = path.join(dir, 'f1');
    mkdirSync(frames);
    copyFileSync(FIX('red-single.jpg'), path.join(frames, 'a.jpg'));
    copyFileSync(path.join(dir, 'small.jpg'), path.join(frames, 'b.jpg'));
    copyFileSync(FIX('tiny-red.jpg'), path.join(frames, 'c.jpg'));
    const r = await runCli([frames, ...FAST, '--out', path.join(dir, 'o1'), '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${path.join(frames, 'b.jpg')}: patch 128 is larger than the image (20x20)\n`);
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l).output ?? 'error')).toEqual([path.join(dir, 'o1', 'a.occlusion.png'), 'error', path.join(dir, 'o1', 'c.occlusion.png')]);
  });

  it('an image smaller than the model\'s centre crop (was: the whole run stopped, exit 2)', async () => {
    const frames = path.join(dir, 'f2');
    mkdirSync(frames);
    copyFileSync(path.join(dir, 'small.jpg'), path.join(frames, 'a.jpg'));
    copyFileSync(FIX('tiny-red.jpg'), path.join(frames, 'b.jpg'));
    const r = await runCli([frames, '--model', cropModel, '--patch', '8', '--workers', '1', '--out', path.join(dir, 'o2'), '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${path.join(frames, 'a.jpg')}: image 20x20 is smaller than the model's 32x32 centre crop\n`);
    expect(JSON.parse(r.out.trim().split('\n')[1]).output).toBe(path.join(dir, 'o2', 'b.occlusion.png'));
    const p = await runCli(['predict', frames, '--model', cropModel, '--json']);
    expect(p.code).toBe(1);
    expect(p.out.trim().split('\n').length).toBe(2);
  });

  it('a single image smaller than the patch stays a usage error (exit 2)', async () => {
    const r = await runCli([path.join(dir, 'small.jpg'), '--patch', '64']);
    expect(r.code).toBe(2);
  });
});

describe('file names with control characters are quoted (JSON escapes) in one-line messages', () => {
  it('a corrupt image named with a newline', async () => {
    const frames = path.join(dir, 'f3');
    mkdirSync(frames);
    const bad = path.join(frames, 'new\nline.jpg');
    writeFileSync(bad, 'not a jpeg');
    copyFileSync(FIX('red-single.jpg'), path.join(frames, 'tab\there.jpg'));
    const r = await runCli([frames, ...FAST, '--out', path.join(dir, 'o3')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${JSON.stringify(bad)}: not a readable image (Input buffer contains unsupported image format)\n`);
    const good = JSON.stringify(path.join(frames, 'tab\there.jpg'));
    expect(r.out.split('\n')[0]).toBe(`${good}: predicted red (99.36%)`);
    const summary = readFileSync(path.join(dir, 'o3', 'summary.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(summary.find((s) => s.error).error).toBe(`${JSON.stringify(bad)}: not a readable image (Input buffer contains unsupported image format)`);
  });

  it('in check lines', async () => {
    const m = path.join(dir, 'nl.json');
    writeFileSync(m, JSON.stringify({ cases: [{ image: 'no\nsuch.jpg', class: 'red' }] }));
    const r = await runCli(['check', m]);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toBe(`FAIL "no\\nsuch.jpg": ${JSON.stringify(path.join(dir, 'no\nsuch.jpg'))}: no such file`);
  });
});

describe('write failures', () => {
  it('a read-only file system is named as such (folder, new sub-folder, file)', async () => {
    const ro = path.join(dir, 'ro');
    mkdirSync(ro);
    const realAccess = fsp.access.bind(fsp);
    const access = vi.spyOn(fsp, 'access').mockImplementation(async (p, mode) => {
      if (mode === fsc.W_OK) throw errno('EROFS', 'access', String(p));
      return realAccess(p, mode);
    });
    const mkdir = vi.spyOn(fsp, 'mkdir').mockImplementation(async (p) => {
      // what node's recursive mkdir reports on a read-only mount: ENOENT
      if (!existsSync(String(p))) throw errno('ENOENT', 'mkdir', String(p));
      return undefined;
    });
    const sub = await runCli([FIX('red-single.jpg'), ...FAST, '--out', path.join(ro, 'sub')]);
    expect(sub.code).toBe(1);
    expect(sub.err).toBe(`occlude: cannot create ${path.join(ro, 'sub')}: read-only file system\n`);
    const file = await runCli([FIX('red-single.jpg'), ...FAST, '-o', path.join(ro, 'x.png')]);
    expect(file.code).toBe(1);
    expect(file.err).toBe(`occlude: ${FIX('red-single.jpg')}: cannot write ${path.join(ro, 'x.png')}: read-only file system\n`);
    access.mockRestore();
    mkdir.mockRestore();
    vi.spyOn(fsp, 'writeFile').mockImplementation(async (p) => {
      throw errno('EROFS', 'open', String(p));
    });
    const write = await runCli([FIX('red-single.jpg'), ...FAST, '-o', path.join(ro, 'y.png')]);
    expect(write.code).toBe(1);
    expect(write.err).toBe(`occlude: ${FIX('red-single.jpg')}: cannot write ${path.join(ro, 'y.png')}: read-only file system\n`);
  });

  it('ENOSPC stops a review at once too, without computing the other mistakes', async () => {
    const frames = path.join(dir, 'f5');
    mkdirSync(frames);
    // three red frames labelled green: three mistakes
    for (const f of ['a', 'b', 'c']) copyFileSync(FIX('red-single.jpg'), path.join(frames, `${f}.jpg`));
    writeFileSync(path.join(dir, 'f5.csv'), 'image,class\na.jpg,green\nb.jpg,green\nc.jpg,green\n');
    const out = path.join(dir, 'o5');
    const images = fullDiskFor('.review.png');
    const r = await runCli(['review', frames, '--labels', path.join(dir, 'f5.csv'), '--out', out, ...FAST]);
    expect(r.code).toBe(1);
    expect(images.failed).toBe(1);
    expect(r.err).toMatch(/cannot write .*a\.review\.png: no space left on device\n/);
    expect(r.err).toMatch(/occlude: stopped: 0 of 1 mistake\(s\) shown \(no space left on device\)\n$/);
  });

  it('ENOSPC stops a folder run at once, without computing the other images', async () => {
    const frames = path.join(dir, 'f4');
    mkdirSync(frames);
    for (const f of ['a', 'b', 'c']) copyFileSync(FIX('red-single.jpg'), path.join(frames, `${f}.jpg`));
    const out = path.join(dir, 'o4');
    const overlays = fullDiskFor('.occlusion.png');
    const r = await runCli([frames, ...FAST, '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(overlays.failed).toBe(1);
    expect(r.err).toBe(
      `occlude: ${path.join(frames, 'a.jpg')}: cannot write ${path.join(out, 'a.occlusion.png')}: no space left on device\n` +
        `occlude: stopped: 0 of 3 image(s) done (no space left on device)\n`,
    );
  });
});
