import { invalidParameter, usageError } from '../errors.js';

/**
 * `--shard K/N`: run the K-th of N parts of a folder run or a check (1-based, as vitest and
 * playwright count), so that a job engine's array of N tasks covers every input exactly once.
 * Every shard lists all the inputs and keeps its part of them, sorted by a key that does not
 * depend on the order the shell or the filesystem lists them in (the input's path relative to its
 * argument), in contiguous parts whose sizes differ by at most one.
 */
export interface Shard {
  /** 1-based */
  index: number;
  count: number;
}

export type Env = Record<string, string | undefined>;

const FORM = 'K/N with 1 <= K <= N, or auto';

/** `2/3` -> {index: 2, count: 3}; a malformed or out-of-range shard is a usage error. */
export function parseShard(text: string, env: Env = {}): Shard {
  if (text.trim() === 'auto') return shardFromEnv(env);
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : null;
  if (!shard || shard.count < 1 || shard.index < 1 || shard.index > shard.count) throw invalidParameter('shard', FORM, text);
  return shard;
}

/**
 * `--shard auto`: the index and count from the job engine's environment.
 * - OCCLUDE_SHARD=K/N (any engine, e.g. a CI matrix);
 * - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX (0-based) with OCCLUDE_SHARD_COUNT (the Job's completions);
 * - Slurm job arrays: SLURM_ARRAY_TASK_ID, counted from SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT;
 * - AWS Batch array jobs: AWS_BATCH_JOB_ARRAY_INDEX (0-based) with OCCLUDE_SHARD_COUNT (the array size).
 */
export function shardFromEnv(env: Env): Shard {
  const int = (name: string): number => {
    const v = env[name];
    if (v === undefined || !/^\s*\d+\s*$/.test(v)) throw usageError(`--shard auto: ${name} is ${v === undefined ? 'not set' : `not a count (${JSON.stringify(v)})`}`);
    return Number(v);
  };
  const checked = (index: number, count: number, from: string): Shard => {
    if (count < 1 || index < 1 || index > count) throw usageError(`--shard auto: ${from} gives shard ${index}/${count}, out of range (${FORM})`);
    return { index, count };
  };
  if (env.OCCLUDE_SHARD !== undefined) return parseShardVar(env.OCCLUDE_SHARD);
  if (env.JOB_COMPLETION_INDEX !== undefined) return checked(int('JOB_COMPLETION_INDEX') + 1, int('OCCLUDE_SHARD_COUNT'), 'JOB_COMPLETION_INDEX (Kubernetes) and OCCLUDE_SHARD_COUNT');
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : int('SLURM_ARRAY_TASK_MIN');
    return checked(int('SLURM_ARRAY_TASK_ID') - min + 1, int('SLURM_ARRAY_TASK_COUNT'), 'SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT');
  }
  if (env.AWS_BATCH_JOB_ARRAY_INDEX !== undefined) return checked(int('AWS_BATCH_JOB_ARRAY_INDEX') + 1, int('OCCLUDE_SHARD_COUNT'), 'AWS_BATCH_JOB_ARRAY_INDEX and OCCLUDE_SHARD_COUNT');
  throw usageError('--shard auto: no shard in the environment (set OCCLUDE_SHARD=K/N, or run as a Kubernetes Indexed Job, a Slurm array or an AWS Batch array job)');
}

function parseShardVar(text: string): Shard {
  try {
    return parseShard(text);
  } catch {
    throw usageError(`--shard auto: OCCLUDE_SHARD must be ${FORM.replace(', or auto', '')} but is ${JSON.stringify(text)}`);
  }
}

/** A shard given to the library: integers with 1 <= index <= count. */
export function checkShard(s: Shard): Shard {
  if (!s || !Number.isInteger(s.index) || !Number.isInteger(s.count) || s.count < 1 || s.index < 1 || s.index > s.count) {
    throw invalidParameter('shard', 'K/N with 1 <= K <= N', s && typeof s === 'object' ? `${s.index}/${s.count}` : s);
  }
  return s;
}

/** The items of one shard: sorted by `key` (ties keep their order), then the shard's contiguous part. */
export function selectShard<T>(items: readonly T[], key: (item: T) => string, shard: Shard): T[] {
  const sorted = items.map((item, i) => ({ item, k: key(item), i })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i));
  const n = sorted.length;
  const from = Math.floor(((shard.index - 1) * n) / shard.count);
  const to = Math.floor((shard.index * n) / shard.count);
  return sorted.slice(from, to).map((s) => s.item);
}

/** The key an input is sharded by: its path relative to its argument, with forward slashes. */
export function inputKey(input: { relative: string }): string {
  return input.relative.split(/[\\/]+/).join('/');
}

export function shardName(s: Shard): string {
  return `${s.index}/${s.count}`;
}
