import type { InputSpec } from '../model/metadata.js';

/** Bytes of activations per variant, as a multiple of the input's size (measured on SqueezeNet 227: about 30x; 48x leaves headroom). */
export const ACTIVATION_FACTOR = 48;
/** Above this, wasm and cpu throughput stops improving (measured: 8-16 best on SqueezeNet 227). */
export const MAX_AUTO_BATCH = 16;

/**
 * The largest batch whose tensors fit the memory budget, shared among the
 * workers. Peak memory then depends on the batch size, never on the number of variants.
 */
export function autoBatchSize(spec: InputSpec, workers: number, budgetBytes: number, extraPerVariant = 0): number {
  const perVariant = spec.height * spec.width * spec.channels * 4 * (1 + ACTIVATION_FACTOR) + extraPerVariant;
  // two batches in flight per worker
  const fit = Math.floor(budgetBytes / (Math.max(1, workers) * 2 * perVariant));
  return Math.max(1, Math.min(MAX_AUTO_BATCH, fit));
}

/**
 * The incremental engine's windows are a fraction of the full activations (on SqueezeNet 227 at
 * patch 32, about 2.3 MB per variant at the peak of a batch, 4 times the input; 8 leaves headroom).
 * Its batches are small: every variant's windows take the size of the batch's largest, so a small
 * batch computes less, and at 4 variants the per-op overhead no longer shows (measured per variant,
 * one thread: seed job 6.0 ms at 1, 5.8 at 4, 7.0 at 16; 1920x1080 at 64/32 3.8 ms at 4, 4.4 at 16;
 * the embedded model 0.75 ms at 4, 0.78 at 16).
 */
export const INCREMENTAL_FACTOR = 8;
export const MAX_INCREMENTAL_BATCH = 4;
