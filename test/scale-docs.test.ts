import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { parseWorkflow, NoOperationTraceWriter } from '@actions/workflow-parser';
import { BIN, ROOT, tmpdir } from './helpers.js';

/**
 * docs/scale.md's examples (issue #19) are valid for their engines, checked with the engines' own
 * schemas from npm (no cluster needed), and their occlude commands run: each with its engine's
 * environment, on four fixture frames, through stand-ins for `occlude` and `npx occlude`.
 */
const SCALE = path.join(ROOT, 'docs', 'scale');
const read = (f: string) => readFileSync(path.join(SCALE, f), 'utf8');
let dir: string;
let shims: string;

beforeAll(() => {
  dir = tmpdir('occlude-scale-docs-');
  const frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (const f of readdirSync(path.join(ROOT, 'fixtures')).filter((x) => x.endsWith('.jpg')).sort().slice(0, 4)) {
    symlinkSync(path.join(ROOT, 'fixtures', f), path.join(frames, f));
  }
  symlinkSync(path.join(ROOT, 'fixtures'), path.join(dir, 'fixtures'));
  shims = path.join(dir, 'bin');
  mkdirSync(shims);
  writeFileSync(path.join(shims, 'occlude'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  writeFileSync(path.join(shims, 'npx'), `#!/bin/sh\n[ "$1" = occlude ] || exit 127\nshift\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(path.join(shims, 'occlude'), 0o755);
  chmodSync(path.join(shims, 'npx'), 0o755);
});

/** Run a shell command line in the test folder with the stand-ins first on PATH. */
function sh(line: string, env: Record<string, string>) {
  const p = spawnSync('sh', ['-c', line], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env, PATH: `${shims}:${process.env.PATH}` } });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

describe('Kubernetes: k8s-job.yaml and k8s-merge.yaml', () => {
  const jobs = () => [...parseAllDocuments(read('k8s-job.yaml')), ...parseAllDocuments(read('k8s-merge.yaml'))].map((d) => d.toJS());

  it("validate against Kubernetes' batch/v1 Job schema", () => {
    const all = jobs();
    expect(all.map((j) => j.metadata.name)).toEqual(['occlude-shards', 'occlude-merge']);
    for (const j of all) expect(() => new Job(j).validate()).not.toThrow();
    // a manifest that is not a valid Job is caught: the check can fail
    const broken = structuredClone(all[0]);
    broken.spec.completions = 'eight';
    expect(() => new Job(broken).validate()).toThrow();
  });

  it('the shards are an Indexed Job whose OCCLUDE_SHARD_COUNT is its completions, and their command runs', () => {
    const job = jobs()[0];
    expect(job.spec.completionMode).toBe('Indexed');
    const c = job.spec.template.spec.containers[0];
    const count = c.env.find((e: { name: string }) => e.name === 'OCCLUDE_SHARD_COUNT').value;
    expect(Number(count)).toBe(job.spec.completions);
    expect(c.command).toEqual(['sh', '-c']);
    const line = c.args[0].replaceAll('/frames', path.join(dir, 'frames')).replaceAll('/results', path.join(dir, 'k8s'));
    // four frames in eight shards: index 1 holds one of them
    const r = sh(line, { JOB_COMPLETION_INDEX: '1', OCCLUDE_SHARD_COUNT: count });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`occlude: shard 2/${count}: 1 of 4 image(s)`);
    const run = JSON.parse(readFileSync(path.join(dir, 'k8s', 'shard-1', 'run.json'), 'utf8'));
    expect(run).toMatchObject({ shard: { index: 2, count: Number(count) }, complete: true });
  });
});

describe('GitHub Actions: github-actions.yml', () => {
  it("parses without errors with GitHub's workflow parser", () => {
    const ok = parseWorkflow({ name: 'github-actions.yml', content: read('github-actions.yml') }, new NoOperationTraceWriter());
    expect(ok.context.errors.getErrors()).toEqual([]);
    expect(ok.value).toBeTruthy();
    // and it does catch a broken workflow
    const broken = parseWorkflow({ name: 'broken.yml', content: read('github-actions.yml').replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest') }, new NoOperationTraceWriter());
    expect(broken.context.errors.getErrors().length).toBeGreaterThan(0);
  });

  it("the matrix's shards match the commands' N, and the shard and check steps run", () => {
    const text = read('github-actions.yml');
    const shards = /shard: \[([\d, ]+)\]/.exec(text)![1].split(',').map(Number);
    const runs = [...text.matchAll(/run: (npx occlude .*)/g)].map((m) => m[1]);
    for (const line of runs.filter((l) => l.includes('--shard'))) expect(line).toContain(`/${shards.length}`);
    for (const line of runs.filter((l) => l.includes('--shard'))) {
      const r = sh(line.replaceAll('${{ matrix.shard }}', '1'), {});
      expect([0, 1], `${line}: ${r.err}`).toContain(r.code); // check exits 1 when a fixture case fails
      expect(r.err).not.toMatch(/Expected|usage|unknown option/);
    }
  });
});

describe('Slurm: slurm.sh', () => {
  it('is a valid bash script and its array task runs its shard', () => {
    expect(spawnSync('bash', ['-n', path.join(SCALE, 'slurm.sh')]).status).toBe(0);
    const text = read('slurm.sh');
    const [, lo, hi] = /#SBATCH --array=(\d+)-(\d+)/.exec(text)!;
    const count = Number(hi) - Number(lo) + 1;
    const r = spawnSync('bash', [path.join(SCALE, 'slurm.sh')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${shims}:${process.env.PATH}`, FRAMES: path.join(dir, 'frames'), SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: lo, SLURM_ARRAY_TASK_COUNT: String(count) },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`occlude: shard 4/${count}: 1 of 4 image(s)`);
  });
});
