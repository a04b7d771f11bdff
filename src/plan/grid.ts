/**
 * The patch grid of the original procedure: origins run from -patch+1 up to the
 * image size in steps of stride, on both axes, and each patch is clipped to the
 * image. With stride dividing patch, every pixel is covered by the same number
 * of patches (peers that start at 0 under-cover the edges).
 */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Axis {
  /** unclipped origins, ascending */
  origins: Int32Array;
  /** clipped start and end (exclusive) of each patch on this axis */
  start: Int32Array;
  end: Int32Array;
  /** number of patches covering each pixel on this axis */
  coverage: Uint32Array;
}

export interface PatchGrid {
  width: number;
  height: number;
  patchWidth: number;
  patchHeight: number;
  stride: number;
  rows: Axis;
  cols: Axis;
  /** rows.origins.length * cols.origins.length */
  count: number;
}

export function planAxis(size: number, patch: number, stride: number): Axis {
  const n = Math.ceil((size + patch - 1) / stride);
  const origins = new Int32Array(n);
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  const coverage = new Uint32Array(size);
  for (let k = 0; k < n; k++) {
    const o = -patch + 1 + k * stride;
    origins[k] = o;
    start[k] = Math.max(o, 0);
    end[k] = Math.min(o + patch, size);
    for (let p = start[k]; p < end[k]; p++) coverage[p]++;
  }
  return { origins, start, end, coverage };
}

export function planGrid(width: number, height: number, patch: number, stride: number, patchHeight = patch): PatchGrid {
  const rows = planAxis(height, patchHeight, stride);
  const cols = planAxis(width, patch, stride);
  return {
    width,
    height,
    patchWidth: patch,
    patchHeight,
    stride,
    rows,
    cols,
    count: rows.origins.length * cols.origins.length,
  };
}

/** The clipped rectangle of variant `index` (row-major: top outer, left inner). */
export function patchRect(grid: PatchGrid, index: number): Rect {
  const nc = grid.cols.origins.length;
  const r = Math.floor(index / nc);
  const c = index - r * nc;
  const top = grid.rows.start[r];
  const left = grid.cols.start[c];
  return { left, top, width: grid.cols.end[c] - left, height: grid.rows.end[r] - top };
}
