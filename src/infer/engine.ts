import type { Rect } from '../plan/grid.js';

/**
 * The generic perturb-batch-score-accumulate loop (the occlusion planner is a
 * thin layer over it, as captum's Occlusion is over its perturbation engine).
 * Variants are produced lazily, grouped into batches, scored with a bounded
 * number of batches in flight, and handed to `sink` as they come back, so memory
 * depends on the batch size and never on the number of variants.
 */
export interface EngineOptions {
  /** number of variants */
  count: number;
  /** the perturbation of variant i */
  rectOf(i: number): Rect;
  /** false when the perturbation cannot change the model's input: such a variant takes `unchanged` without a forward pass */
  visible(rect: Rect): boolean;
  /** the output row of the unperturbed input */
  unchanged: Float32Array;
  /** score a batch: one row of `outputs` raw values per rect */
  score(rects: Rect[]): Promise<Float32Array>;
  outputs: number;
  /** variant i's output row (valid only during the call), in variant order */
  sink(i: number, row: Float32Array): void;
  batchSize: number;
  inflight: number;
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

export interface EngineStats {
  variants: number;
  evaluated: number;
  skipped: number;
}

export async function runEngine(o: EngineOptions): Promise<EngineStats> {
  let done = 0;
  let skipped = 0;
  const running = new Set<Promise<void>>();
  let failure: unknown = null;
  // Rows reach `sink` in variant order, whatever order the batches come back in (workers finish them in
  // any order): the float sums of the heat-map then do not depend on the workers' timing. Rows that come
  // back early wait here; there are at most `inflight` batches of them.
  const early = new Map<number, Float32Array>();
  let next = 0;
  const ready = (i: number, row: Float32Array) => {
    if (i !== next) {
      early.set(i, row);
      return;
    }
    o.sink(i, row);
    for (next++; early.has(next); next++) {
      o.sink(next, early.get(next)!);
      early.delete(next);
    }
  };

  const dispatch = (ids: number[], rects: Rect[]) => {
    const p = o
      .score(rects)
      .then((raw) => {
        for (let k = 0; k < ids.length; k++) {
          ready(ids[k], raw.subarray(k * o.outputs, (k + 1) * o.outputs));
        }
        done += ids.length;
        o.onProgress?.(done, o.count);
      })
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => running.delete(p));
    running.add(p);
  };

  let ids: number[] = [];
  let rects: Rect[] = [];
  for (let i = 0; i < o.count; i++) {
    if (failure) break;
    o.signal?.throwIfAborted();
    const rect = o.rectOf(i);
    if (!o.visible(rect)) {
      ready(i, o.unchanged);
      skipped++;
      done++;
      continue;
    }
    ids.push(i);
    rects.push(rect);
    if (ids.length === o.batchSize) {
      dispatch(ids, rects);
      ids = [];
      rects = [];
      while (running.size >= o.inflight) await Promise.race(running);
    }
  }
  if (ids.length && !failure) dispatch(ids, rects);
  await Promise.all(running);
  if (failure) throw failure;
  o.signal?.throwIfAborted();
  o.onProgress?.(done, o.count);
  return { variants: o.count, evaluated: o.count - skipped, skipped };
}
