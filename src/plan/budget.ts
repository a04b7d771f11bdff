import { ACTIVATION_FACTOR, INCREMENTAL_FACTOR } from '../infer/batch.js';
import type { InputSpec } from '../model/metadata.js';
import { invalidParameter } from '../errors.js';

/**
 * The memory budget (--memory-budget) covers the whole process: what the process and each worker
 * thread take whatever they do, then the batches in flight. Measured with Node 20 and the wasm backend
 * on this project's machine: the main thread with tfjs, sharp and a loaded model takes 95-118 MB;
 * each worker thread about 30 MB plus 3-4 times its model's weight bytes (the weights as read, as
 * tensors, in the backend), before any batch. The constants round these up.
 */
const MiB = 1024 ** 2;
export const PROCESS_BYTES = 112 * MiB;
export const WORKER_BYTES = 32 * MiB;
export const WEIGHT_COPIES = 4;
/** batches in flight per worker (as the engine runs them) */
const INFLIGHT = 2;

/** Bytes of one variant in a batch: the model input and its activations (the estimate autoBatchSize uses). */
export function variantBytes(spec: InputSpec): number {
  return spec.height * spec.width * spec.channels * 4 * (1 + ACTIVATION_FACTOR);
}

/** What an engine holds: per variant of a batch, and per scoring thread whatever the batches (the incremental engine's cache). */
export interface Footprint {
  perVariant: number;
  perThread: number;
}

/**
 * The full engine: a variant's input and activations. The incremental engine: a variant's windows
 * (a fraction of them), and in every scoring thread one frame's cached activations, twice while they are made.
 */
export function footprint(spec: InputSpec, engine: 'full' | 'incremental' | 'reference', cacheBytes = 0): Footprint {
  if (engine === 'incremental') return { perVariant: spec.height * spec.width * spec.channels * 4 * INCREMENTAL_FACTOR, perThread: 2 * cacheBytes };
  return { perVariant: variantBytes(spec), perThread: 0 };
}

/** Memory taken before any batch: the process, and with a pool each worker, each with its copy of the model (and the engine's per-thread share). */
export function fixedBytes(workers: number, weightBytes: number, perThread = 0): number {
  const threads = workers > 1 ? workers : 0; // one worker scores in-process
  return PROCESS_BYTES + (1 + threads) * WEIGHT_COPIES * weightBytes + threads * WORKER_BYTES + Math.max(1, workers) * perThread;
}

/** What batches of `batch` variants on `workers` workers take in all (by default on the full engine). */
export function totalBytes(workers: number, batch: number, spec: InputSpec, weightBytes: number, fp: Footprint = footprint(spec, 'full')): number {
  return fixedBytes(workers, weightBytes, fp.perThread) + workers * INFLIGHT * batch * fp.perVariant;
}

/** The largest batch up to `limit` whose total fits `budget` (0 when not even one variant does). */
export function fitBatch(budget: number, workers: number, spec: InputSpec, weightBytes: number, fp: Footprint, limit: number): number {
  let n = 0;
  while (n < limit && totalBytes(workers, n + 1, spec, weightBytes, fp) <= budget) n++;
  return n;
}

/** The most workers the budget holds with batches of one variant (0: not even one). */
export function maxWorkers(budget: number, spec: InputSpec, weightBytes: number, limit = 4096): number {
  let n = 0;
  while (n < limit && totalBytes(n + 1, 1, spec, weightBytes) <= budget) n++;
  return n;
}

const mb = (bytes: number) => `${Math.ceil(bytes / MiB)} MB`;

/**
 * The worker count for a session. A requested count over what the budget holds is a usage error (so is a
 * budget that holds no worker at all); the default (one per core) is lowered to what the budget holds.
 * Returns the count and, when the default was lowered, why.
 */
export function planWorkers(o: { requested?: number; cores: number; budget: number; spec: InputSpec; weightBytes: number }): { workers: number; note: string | null } {
  const max = maxWorkers(o.budget, o.spec, o.weightBytes);
  if (max < 1) {
    const need = totalBytes(1, 1, o.spec, o.weightBytes);
    throw invalidParameter('memory-budget', `size of at least ${mb(need)}`, mb(o.budget), `the process, the model and one variant in flight take about ${mb(need)}`);
  }
  if (o.requested !== undefined && o.requested > max) {
    const each = WORKER_BYTES + WEIGHT_COPIES * o.weightBytes + INFLIGHT * variantBytes(o.spec);
    throw invalidParameter(
      'workers',
      `integer between 1 and ${max}`,
      o.requested,
      `the ${mb(o.budget)} memory budget holds ${max} (each worker takes about ${mb(each)} with its model and a batch of one; raise --memory-budget to run more)`,
    );
  }
  if (o.requested !== undefined) return { workers: o.requested, note: null };
  if (o.cores <= max) return { workers: o.cores, note: null };
  return { workers: max, note: `${o.cores} cores, but the ${mb(o.budget)} memory budget holds ${max} worker(s)` };
}

/** An explicit batch size must fit the budget beside the workers. */
export function checkBatchSize(batch: number, workers: number, budget: number, spec: InputSpec, weightBytes: number): void {
  let max = 0;
  while (max < batch && totalBytes(workers, max + 1, spec, weightBytes) <= budget) max++;
  if (max < batch) {
    throw invalidParameter('batch-size', `integer between 1 and ${max}`, batch, `${workers} worker(s) with two batches in flight each must fit the ${mb(budget)} memory budget`);
  }
}
