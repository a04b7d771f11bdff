import type { PatchGrid, Rect } from '../plan/grid.js';
import { patchRect } from '../plan/grid.js';

/**
 * Per-pixel accumulation of variant scores: one float32 sum map per image. The
 * coverage count of a pixel is separable (rows x columns of the grid), so it is
 * never stored as a map.
 */
export class Accumulator {
  readonly sum: Float32Array;
  private minValue = Infinity;
  private minIndex = -1;
  private seen = 0;

  constructor(readonly grid: PatchGrid) {
    this.sum = new Float32Array(grid.width * grid.height);
  }

  /** Add the score of variant `index` to every pixel its patch covers. */
  add(index: number, score: number): void {
    const r = patchRect(this.grid, index);
    const w = this.grid.width;
    const sum = this.sum;
    for (let y = r.top; y < r.top + r.height; y++) {
      const row = y * w;
      for (let x = r.left; x < r.left + r.width; x++) sum[row + x] += score;
    }
    this.seen++;
    // strict < keeps the first minimum in row-major order, like numpy's argmin
    if (score < this.minValue || (score === this.minValue && index < this.minIndex)) {
      this.minValue = score;
      this.minIndex = index;
    }
  }

  get variantsSeen(): number {
    return this.seen;
  }

  get minimum(): { index: number; value: number; rect: Rect } {
    if (this.minIndex < 0) throw new Error('no variant has been accumulated');
    return { index: this.minIndex, value: this.minValue, rect: patchRect(this.grid, this.minIndex) };
  }

  /** The mean score over covering patches, per pixel (height x width, row-major). */
  mean(): Float32Array {
    const { width, height, rows, cols } = this.grid;
    const out = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      const cy = rows.coverage[y];
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        out[i] = this.sum[i] / (cy * cols.coverage[x]);
      }
    }
    return out;
  }
}

/** drop mode: baseline probability minus the mean, so higher = more important. */
export function toDrop(map: Float32Array, baseline: number): Float32Array {
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = baseline - map[i];
  return out;
}

export function mapRange(map: Float32Array): { min: number; max: number; argmin: number; argmax: number } {
  let min = Infinity;
  let max = -Infinity;
  let argmin = 0;
  let argmax = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (v < min) {
      min = v;
      argmin = i;
    }
    if (v > max) {
      max = v;
      argmax = i;
    }
  }
  return { min, max, argmin, argmax };
}
