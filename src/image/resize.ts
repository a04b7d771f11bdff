/**
 * Bilinear resampling with half-pixel centres and no antialiasing: the same
 * arithmetic as TensorFlow's resizeBilinear(x, size, alignCorners=false,
 * halfPixelCenters=true) and PyTorch's interpolate(align_corners=False).
 * Each axis is a table: output index -> two source indices and a weight.
 */
export interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float64Array;
}

/**
 * Table for `count` outputs starting at output index `offset`, when an axis of
 * `inSize` source pixels is resized to `outSize` pixels (the offset is how a
 * centre crop after the resize is expressed).
 */
export function bilinearAxis(inSize: number, outSize: number, offset = 0, count = outSize): AxisTable {
  const scale = inSize / outSize;
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  const frac = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const src = (k + offset + 0.5) * scale - 0.5;
    const f = Math.floor(src);
    lo[k] = Math.max(f, 0);
    hi[k] = Math.min(Math.ceil(src), inSize - 1);
    frac[k] = src - f;
  }
  return { lo, hi, frac };
}

/**
 * The output range [from, to) whose samples read any source index in [start, end).
 * Tables are monotonic, so a scan from both ends suffices. Returns null when none does.
 */
export function affectedRange(t: AxisTable, start: number, end: number): [number, number] | null {
  const n = t.lo.length;
  let from = 0;
  while (from < n && t.hi[from] < start) from++;
  let to = n;
  while (to > from && t.lo[to - 1] >= end) to--;
  if (from >= to) return null;
  // a sample between whose two sources the whole range falls reads neither
  if (t.lo[from] >= end || t.hi[to - 1] < start) return null;
  return [from, to];
}
