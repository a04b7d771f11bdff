import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT, runCli, tmpdir } from './helpers.js';

/**
 * Issue #19: a folder of 12 frames as one run and as 3 shards (--shard K/N) merged with
 * `occlude merge`, with the embedded model and the fixtures (nothing outside the repository).
 */
const FRAMES = readdirSync(path.join(ROOT, 'fixtures')).filter((f) => f.endsWith('.jpg')).sort().slice(0, 12);
const GRID = ['--patch', '128', '--stride', '64', '--workers', '1'];
let dir: string;
let frames: string;

type Row = Record<string, unknown> & { image: string };
const rows = (out: string): Row[] =>
  readFileSync(path.join(out, 'summary.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
/** rows without the time they took, sorted by image */
const comparable = (rs: Row[]) => rs.map(({ seconds: _s, ...r }) => r).sort((a, b) => (a.image < b.image ? -1 : 1));

async function occlude(...args: string[]) {
  return runCli([frames, '--recursive', ...GRID, ...args]);
}

beforeAll(async () => {
  dir = tmpdir('occlude-scale-');
  frames = path.join(dir, 'frames');
  // two sub-folders, so that shard keys are paths relative to the argument, not file names
  for (const [k, f] of FRAMES.entries()) {
    const sub = path.join(frames, k % 2 ? 'day' : 'night');
    mkdirSync(sub, { recursive: true });
    symlinkSync(path.join(ROOT, 'fixtures', f), path.join(sub, f));
  }
});

describe('--shard K/N and occlude merge', () => {
  let single: string;
  let merged: string;

  it('3 shards merge into the rows of one run (all but the seconds), and a page that lists all 12', async () => {
    expect(FRAMES.length).toBe(12);
    single = path.join(dir, 'single');
    const one = await occlude('--out', single, '--json');
    expect(one.code, one.err).toBe(0);
    const shards = [1, 2, 3].map((k) => path.join(dir, `shard-${k}`));
    const sizes: number[] = [];
    for (const [k, out] of shards.entries()) {
      const r = await occlude('--out', out, '--shard', `${k + 1}/3`, '--json');
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain(`occlude: shard ${k + 1}/3: 4 of 12 image(s)`);
      sizes.push(r.out.trim().split('\n').length);
      const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
      expect(run.shard).toEqual({ index: k + 1, count: 3 });
      expect(run.complete).toBe(true);
    }
    expect(sizes).toEqual([4, 4, 4]);
    merged = path.join(dir, 'merged');
    const page = path.join(merged, 'index.html');
    const m = await runCli(['merge', ...shards, '--out', merged, '--report', page]);
    expect(m.code, m.err).toBe(0);
    expect(m.out).toMatch(/^merged 12 image\(s\) \(0 failed\) from 3 folder\(s\) into .*merged: 12 file\(s\), 12 linked, 0 copied\n/);
    expect(comparable(rows(merged))).toEqual(comparable(rows(single)));
    for (const r of rows(merged)) {
      const overlay = path.join(merged, r.output as string);
      expect(statSync(overlay).isFile()).toBe(true);
      expect(statSync(overlay).nlink).toBe(2); // hard-linked from its shard
    }
    const html = readFileSync(page, 'utf8');
    for (const f of FRAMES) expect(html).toContain(f);
    expect(html).toContain('12 image(s), 0 error(s), merged from 3 folder(s)');
    expect(JSON.parse(readFileSync(path.join(merged, 'run.json'), 'utf8'))).toMatchObject({ complete: true, mergedFrom: shards });
  });

  it('--shard auto reads the job engine\'s environment', async () => {
    const out = path.join(dir, 'auto');
    const r = await runCli([frames, '--recursive', ...GRID, '--out', out, '--shard', 'auto'], { JOB_COMPLETION_INDEX: '2', OCCLUDE_SHARD_COUNT: '3' });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('occlude: shard 3/3: 4 of 12 image(s)');
    expect(comparable(rows(out))).toEqual(comparable(rows(path.join(dir, 'shard-3'))));
  });

  it('a malformed shard or one out of range is a usage error (exit 2)', async () => {
    for (const [shard, env, msg] of [
      ['4/3', {}, 'occlude: Expected K/N with 1 <= K <= N, or auto for shard but received "4/3"'],
      ['0/3', {}, 'occlude: Expected K/N with 1 <= K <= N, or auto for shard but received "0/3"'],
      ['two', {}, 'occlude: Expected K/N with 1 <= K <= N, or auto for shard but received "two"'],
      ['auto', { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '3' }, 'occlude: --shard auto: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT gives shard 6/3, out of range'],
      ['auto', {}, 'occlude: --shard auto: no shard in the environment'],
    ] as const) {
      const r = await runCli([frames, ...GRID, '--out', path.join(dir, 'bad'), '--shard', shard], env);
      expect(r.code, `${shard}: ${r.err}`).toBe(2);
      expect(r.err.startsWith(msg), r.err).toBe(true);
    }
    const c = await runCli(['check', path.join(ROOT, 'fixtures', 'manifest.json'), '--shard', '3/2']);
    expect(c.code).toBe(2);
  });

  it('merge refuses folders of other settings, naming the setting (exit 2)', async () => {
    const other = path.join(dir, 'other-patch');
    const r = await runCli([frames, '--recursive', '--patch', '96', '--stride', '64', '--workers', '1', '--out', other, '--shard', '1/3']);
    expect(r.code, r.err).toBe(0);
    const m = await runCli(['merge', path.join(dir, 'shard-2'), other, '--out', path.join(dir, 'm-other')]);
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/^occlude: .*other-patch\/run\.json: other settings than .*shard-2\/run\.json: patch 96 \(was 128\)\n$/);
    expect(existsSync(path.join(dir, 'm-other'))).toBe(false);
  });

  it('merge refuses overlapping shards and folders that are no occlude output (exit 2)', async () => {
    const twice = await runCli(['merge', path.join(dir, 'shard-3'), path.join(dir, 'auto'), '--out', path.join(dir, 'm-twice')]);
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/are both shard 3\/3/);
    const plain = await runCli(['merge', frames, '--out', path.join(dir, 'm-plain')]);
    expect(plain.code).toBe(2);
    expect(plain.err).toMatch(/frames: not an occlude output folder \(no run\.json\)/);
  });

  it('merge reports a missing shard and exits 1, after merging what is there', async () => {
    const out = path.join(dir, 'm-missing');
    const m = await runCli(['merge', path.join(dir, 'shard-1'), path.join(dir, 'shard-3'), '--out', out, '--json']);
    expect(m.code).toBe(1);
    expect(m.err).toBe('occlude: incomplete: shard 2/3 missing\n');
    expect(JSON.parse(m.out)).toMatchObject({ images: 8, incomplete: ['shard 2/3 missing'] });
    expect(rows(out)).toHaveLength(8);
    expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).complete).toBe(false);
  });

  it('a shard folder holds one shard: another shard into it is a usage error', async () => {
    const r = await occlude('--out', path.join(dir, 'shard-1'), '--shard', '2/3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/run\.json: this folder holds results of other settings: shard 2\/3 \(was shard 1\/3\)/);
  });
});

describe('check --shard K/N', () => {
  it('each shard checks its part of the cases; the JUnit files together list every case once', async () => {
    const manifest = path.join(ROOT, 'fixtures', 'manifest.json');
    const all = JSON.parse(readFileSync(manifest, 'utf8')).cases.length as number;
    const names: string[] = [];
    for (const k of [1, 2]) {
      const junit = path.join(dir, `junit-${k}.xml`);
      const r = await runCli(['check', manifest, '--shard', `${k}/2`, '--junit', junit, '--workers', '1']);
      expect([0, 1]).toContain(r.code);
      const xml = readFileSync(junit, 'utf8');
      names.push(...[...xml.matchAll(/<testcase [^>]*\bname="([^"]+)"/g)].map((m) => m[1]));
      expect(r.out).not.toMatch(/not run/);
    }
    expect(names.length).toBe(all);
    expect(new Set(names).size).toBe(all);
  });
});
