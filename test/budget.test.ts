import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Session, OccludeError } from '../dist/index.js';
import { BIN, ROOT, runCli, tmpdir } from './helpers.js';

/**
 * Issue #17, defect 3: the memory budget holds for the whole process. A worker count it cannot hold is
 * refused before any worker starts; the default (one per core) is lowered to what it holds.
 */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
const MB = 1024 ** 2;
/** src/plan/budget.ts, imported where used: the CLI tests above must also run (and fail) on a tree without it */
const budget = () => import('../dist/plan/budget.js');
let dir: string;

beforeAll(() => {
  dir = tmpdir('occlude-budget-');
});

describe('--workers and the memory budget', () => {
  it('a count the budget cannot hold is a usage error, before any worker starts (subprocess, time-limited)', () => {
    for (const n of ['40', '1000']) {
      const t0 = Date.now();
      const p = spawnSync(process.execPath, [BIN, FRAME, '--workers', n, '--patch', '128', '-o', path.join(dir, 'x.png')], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      expect(p.status).toBe(2);
      expect(p.stderr).toMatch(new RegExp(`^occlude: Expected integer between 1 and \\d+ for workers but received ${n}: the 1024 MB memory budget holds \\d+ \\(each worker takes about \\d+ MB with its model and a batch of one; raise --memory-budget to run more\\)\\n$`));
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
  });

  it('the library refuses the same, and a budget that holds no worker at all', async () => {
    const err = await Session.open({ workers: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OccludeError);
    expect((err as OccludeError).kind).toBe('usage');
    const r = await runCli([FRAME, '--memory-budget', '50MB']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^occlude: Expected size of at least \d+ MB for memory-budget but received "50 MB": the process, the model and one variant in flight take about \d+ MB\n$/);
  });

  it('the default worker count is lowered to what the budget holds, and -v says why', async () => {
    const { maxWorkers, planWorkers, totalBytes } = await budget();
    const s = await Session.open({ memoryBudget: 300 * MB });
    try {
      expect(s.workers).toBe(1);
      const spec = s.inputSpec();
      const weights = s.model.source!.weightBytes;
      expect(maxWorkers(300 * MB, spec, weights)).toBe(1);
      // what it runs fits: the process, the model and two batches in flight
      expect(totalBytes(s.workers, s.batchSize(spec), spec, weights, s.footprint)).toBeLessThanOrEqual(300 * MB);
    } finally {
      await s.close();
    }
    const spec = { height: 256, width: 455, channels: 3, resize: null, crop: 'none', range: [0, 1], mean: null, std: null, order: 'rgb' };
    expect(planWorkers({ cores: 8, budget: 300 * MB, spec, weightBytes: 605196 })).toEqual({ workers: 1, note: '8 cores, but the 300 MB memory budget holds 1 worker(s)' });
    expect(planWorkers({ cores: 8, budget: 1024 * MB, spec, weightBytes: 605196 }).workers).toBe(maxWorkers(1024 * MB, spec, 605196));
    expect(planWorkers({ cores: 2, requested: 1, budget: 300 * MB, spec, weightBytes: 605196 })).toEqual({ workers: 1, note: null });
    const r = await runCli([FRAME, '--memory-budget', '300MB', '--patch', '128', '--stride', '128', '-o', path.join(dir, 'x.png'), '-v']);
    expect(r.code).toBe(0);
    const cores = os.availableParallelism();
    expect(r.err).toContain(cores > 1 ? `workers: 1 (${cores} cores, but the 300 MB memory budget holds 1 worker(s)); batch size: ` : 'workers: 1; batch size: ');
  });

  it('with the default budget, what runs fits it: workers, model and batches', async () => {
    const { totalBytes } = await budget();
    const s = await Session.open({ workers: 2 });
    try {
      const spec = s.inputSpec();
      expect(totalBytes(2, s.batchSize(spec), spec, s.model.source!.weightBytes, s.footprint)).toBeLessThanOrEqual(1024 * MB);
    } finally {
      await s.close();
    }
  });

  it('an explicit batch size the budget cannot hold is refused', async () => {
    const r = await runCli([FRAME, '--workers', '2', '--batch-size', '64', '--patch', '128']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^occlude: Expected integer between 1 and \d+ for batch-size but received 64: 2 worker\(s\) with two batches in flight each must fit the 1024 MB memory budget\n$/);
  });
});
