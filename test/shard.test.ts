import { describe, expect, it } from 'vitest';
import { parseShard, selectShard, inputKey } from '../dist/runs/shard.js';

/** --shard K/N (issue #19): parsing, the job engines' environments, and the split. */
describe('--shard K/N', () => {
  it('parses 1-based K/N; anything else is a usage error in the sharp style', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(parseShard(' 3 / 3 ')).toEqual({ index: 3, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', '3', 'a/b', '1/3/5', '-1/3', '']) {
      expect(() => parseShard(bad)).toThrow(expect.objectContaining({ kind: 'usage', message: `Expected K/N with 1 <= K <= N, or auto for shard but received ${JSON.stringify(bad)}` }));
    }
  });

  it('auto reads the job engine: OCCLUDE_SHARD, Kubernetes, Slurm, AWS Batch', () => {
    expect(parseShard('auto', { OCCLUDE_SHARD: '2/5' })).toEqual({ index: 2, count: 5 });
    expect(parseShard('auto', { JOB_COMPLETION_INDEX: '0', OCCLUDE_SHARD_COUNT: '4' })).toEqual({ index: 1, count: 4 });
    expect(parseShard('auto', { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '3' })).toEqual({ index: 3, count: 3 });
    expect(parseShard('auto', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' })).toEqual({ index: 1, count: 2 });
    expect(parseShard('auto', { AWS_BATCH_JOB_ARRAY_INDEX: '9', OCCLUDE_SHARD_COUNT: '10' })).toEqual({ index: 10, count: 10 });
    // OCCLUDE_SHARD wins over an engine's variables
    expect(parseShard('auto', { OCCLUDE_SHARD: '1/2', JOB_COMPLETION_INDEX: '3', OCCLUDE_SHARD_COUNT: '4' })).toEqual({ index: 1, count: 2 });
  });

  it('auto without a shard, or with one out of range, is a usage error that says what is missing', () => {
    const err = (env: Record<string, string>) => {
      try {
        parseShard('auto', env);
      } catch (e) {
        return e as { kind: string; message: string };
      }
      throw new Error('no error');
    };
    expect(err({})).toMatchObject({ kind: 'usage', message: expect.stringMatching(/no shard in the environment \(set OCCLUDE_SHARD=K\/N/) });
    expect(err({ JOB_COMPLETION_INDEX: '2' }).message).toBe('--shard auto: OCCLUDE_SHARD_COUNT is not set');
    expect(err({ JOB_COMPLETION_INDEX: '4', OCCLUDE_SHARD_COUNT: '4' }).message).toMatch(/gives shard 5\/4, out of range/);
    expect(err({ OCCLUDE_SHARD: '5/4' }).message).toMatch(/OCCLUDE_SHARD must be K\/N with 1 <= K <= N but is "5\/4"/);
    expect(err({ SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '2' }).message).toMatch(/SLURM_ARRAY_TASK_ID is not a count \("x"\)/);
  });
});

describe('the split', () => {
  const files = Array.from({ length: 23 }, (_, i) => ({ relative: `day${i % 3}/frame-${String(i).padStart(3, '0')}.jpg` }));
  const shuffled = (seed: number) => {
    const a = [...files];
    for (let i = a.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  };

  it('puts every input in exactly one shard, balanced by count, whatever the listing order', () => {
    for (const n of [1, 2, 3, 5, 23, 30]) {
      const parts = Array.from({ length: n }, (_, k) => selectShard(files, inputKey, { index: k + 1, count: n }));
      const all = parts.flat().map((f) => f.relative).sort();
      expect(all).toEqual(files.map((f) => f.relative).sort());
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (const seed of [1, 2, 3]) {
        const again = Array.from({ length: n }, (_, k) => selectShard(shuffled(seed), inputKey, { index: k + 1, count: n }));
        expect(again.map((p) => p.map((f) => f.relative))).toEqual(parts.map((p) => p.map((f) => f.relative)));
      }
    }
  });

  it('keys inputs by their path relative to the argument, with forward slashes', () => {
    expect(inputKey({ relative: 'a\\b\\c.jpg' })).toBe('a/b/c.jpg');
    expect(inputKey({ relative: 'a/b/c.jpg' })).toBe('a/b/c.jpg');
  });
});
