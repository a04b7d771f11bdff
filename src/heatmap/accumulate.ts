import type { PatchGrid, Rect } from '../plan/grid.js';
import { patchRect } from '../plan/grid.js';

/**
 * Per-pixel accumulation of variant scores: one float32 sum map per tracked score
 * (one per class of a multi-class sweep). The coverage count of a pixel is
 * separable (rows x columns of the grid), so it is never stored as a map.
 */
export class Accumulator {
  readonly sums: Float32Array[];
  private readonly minValue: Float64Array;
  private readonly minIndex: Int32Array;

  constructor(
    readonly grid: PatchGrid,
    readonly scores = 1,
  ) {
    this.sums = Array.from({ length: scores }, () => new Float32Array(grid.width * grid.height));
    this.minValue = new Float64Array(scores).fill(Infinity);
    this.minIndex = new Int32Array(scores).fill(-1);
  }

  /** Add the scores of variant `index` (one per tracked map) to every pixel its patch covers. */
  add(index: number, scores: ArrayLike<number>): void {
    const r = patchRect(this.grid, index);
    const w = this.grid.width;
    for (let k = 0; k < this.scores; k++) {
      const score = scores[k];
      const sum = this.sums[k];
      for (let y = r.top; y < r.top + r.height; y++) {
        const row = y * w;
        for (let x = r.left; x < r.left + r.width; x++) sum[row + x] += score;
      }
      // strict < keeps the first minimum in row-major order, like numpy's argmin
      if (score < this.minValue[k] || (score === this.minValue[k] && index < this.minIndex[k])) {
        this.minValue[k] = score;
        this.minIndex[k] = index;
      }
    }
  }

  /** The lowest score of map `k` and the patch that gave it. */
  minimum(k = 0): { index: number; value: number; rect: Rect } {
    if (this.minIndex[k] < 0) throw new Error('no variant has been accumulated');
    return { index: this.minIndex[k], value: this.minValue[k], rect: patchRect(this.grid, this.minIndex[k]) };
  }

  /** Map `k`: the mean score over covering patches, per pixel (height x width, row-major). */
  mean(k = 0): Float32Array {
    const { width, height, rows, cols } = this.grid;
    const sum = this.sums[k];
    const out = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      const cy = rows.coverage[y];
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        out[i] = sum[i] / (cy * cols.coverage[x]);
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
