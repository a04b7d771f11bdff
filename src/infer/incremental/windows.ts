/**
 * Batches of windows into one activation map. Every variant of a batch has a
 * window of the same size (so that a layer runs as one op on all of them), at its
 * own place; inside the window, only the variant's changed region differs from the
 * unoccluded frame's cached activation.
 */

/** One activation of the unoccluded frame: height x width x channels, row-major. */
export interface Cached {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** The windows of a batch into one activation, and each variant's changed region inside its window. */
export interface Windows {
  count: number;
  height: number;
  width: number;
  channels: number;
  /** window origin of each variant */
  top: Int32Array;
  left: Int32Array;
  /** each variant's changed region [top0, top1) x [left0, left1); empty when top1 <= top0 */
  top0: Int32Array;
  top1: Int32Array;
  left0: Int32Array;
  left1: Int32Array;
  /** count x height x width x channels */
  data: Float32Array;
}

export interface Placement {
  height: number;
  width: number;
  top: Int32Array;
  left: Int32Array;
}

export function regionsOf(count: number): Pick<Windows, 'top0' | 'top1' | 'left0' | 'left1'> {
  return { top0: new Int32Array(count), top1: new Int32Array(count), left0: new Int32Array(count), left1: new Int32Array(count) };
}

/** Whether `w` already has exactly the windows `p` asks for. */
export function samePlacement(w: Windows, p: Placement): boolean {
  if (w.height !== p.height || w.width !== p.width) return false;
  for (let b = 0; b < w.count; b++) if (w.top[b] !== p.top[b] || w.left[b] !== p.left[b]) return false;
  return true;
}

/**
 * Fill `out` (count x p.height x p.width x channels) with windows of the cached
 * activation at the places `p` gives, `pad` where a window runs past the map's
 * edge, then write in each variant's changed values from `src` where they fall
 * inside its window.
 */
export function gather(cache: Cached, p: Placement, pad: number, src: Windows | null, out: Float32Array): Float32Array {
  const srcData = src?.data;
  const { data, width: W, height: H, channels: C } = cache;
  const wh = p.height;
  const ww = p.width;
  const rowLen = ww * C;
  const winSize = wh * rowLen;
  const count = p.top.length;
  for (let b = 0; b < count; b++) {
    const base = b * winSize;
    const y0 = p.top[b];
    const x0 = p.left[b];
    const cx0 = Math.max(x0, 0);
    const cx1 = Math.min(x0 + ww, W);
    for (let i = 0; i < wh; i++) {
      const y = y0 + i;
      const row = base + i * rowLen;
      if (y < 0 || y >= H || cx1 <= cx0) {
        out.fill(pad, row, row + rowLen);
        continue;
      }
      if (cx0 > x0) out.fill(pad, row, row + (cx0 - x0) * C);
      out.set(data.subarray((y * W + cx0) * C, (y * W + cx1) * C), row + (cx0 - x0) * C);
      if (cx1 < x0 + ww) out.fill(pad, row + (cx1 - x0) * C, row + rowLen);
    }
    if (src) paste(src, srcData!, b, y0, x0, wh, ww, out, base);
  }
  return out;
}

/** Copy variant b's changed region from `src` into a window at (y0, x0) of size wh x ww, stored at `out[base]`. */
function paste(src: Windows, data: Float32Array, b: number, y0: number, x0: number, wh: number, ww: number, out: Float32Array, base: number): void {
  const C = src.channels;
  const r0 = Math.max(src.top0[b], y0);
  const r1 = Math.min(src.top1[b], y0 + wh);
  const c0 = Math.max(src.left0[b], x0);
  const c1 = Math.min(src.left1[b], x0 + ww);
  if (r1 <= r0 || c1 <= c0) return;
  const sBase = b * src.height * src.width * C;
  const sy = src.top[b];
  const sx = src.left[b];
  for (let y = r0; y < r1; y++) {
    const from = sBase + ((y - sy) * src.width + (c0 - sx)) * C;
    out.set(data.subarray(from, from + (c1 - c0) * C), base + ((y - y0) * ww + (c0 - x0)) * C);
  }
}

/** The whole activation of every variant (into `out`): the cached map with each variant's changes written in. */
export function materialize(cache: Cached, src: Windows, out: Float32Array): Float32Array {
  const size = cache.height * cache.width * cache.channels;
  const data = src.data;
  for (let b = 0; b < src.count; b++) {
    out.set(cache.data, b * size);
    paste(src, data, b, 0, 0, cache.height, cache.width, out, b * size);
  }
  return out;
}

/** Concatenate windows of the same placement along channels (into `out`). */
export function concatChannels(parts: Float32Array[], channels: number[], pixels: number, out: Float32Array): Float32Array {
  const total = channels.reduce((a, b) => a + b, 0);
  let offset = 0;
  parts.forEach((part, k) => {
    const c = channels[k];
    for (let p = 0; p < pixels; p++) {
      const s = p * c;
      const d = p * total + offset;
      for (let j = 0; j < c; j++) out[d + j] = part[s + j];
    }
    offset += c;
  });
  return out;
}
