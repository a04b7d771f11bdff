import * as tf from '@tensorflow/tfjs-core';
import type { Rect } from '../plan/grid.js';
import type { InputSpec } from '../model/metadata.js';
import type { LoadedModel } from '../model/load.js';
import { Preprocessor, type Fill, type SourceView } from '../image/preprocess.js';
import { placeWindow } from './incremental/geometry.js';
import { gather, regionsOf, type Windows } from './incremental/windows.js';

/** One frame to score variants of; plain data, so it can be posted to worker threads (data and fill are shared memory). */
export interface FrameJob {
  width: number;
  height: number;
  data: Uint8Array;
  fill: Fill;
  /** rectangles painted permanently (earlier passes of --iterate) */
  occluders: Rect[];
  spec: InputSpec;
}

/** A rect of width 0 stands for "no patch": the frame as it is (with its permanent occluders). */
export const NO_PATCH: Rect = { left: 0, top: 0, width: 0, height: 0 };

export function packRects(rects: readonly Rect[]): Int32Array {
  const out = new Int32Array(rects.length * 4);
  rects.forEach((r, i) => out.set([r.left, r.top, r.width, r.height], i * 4));
  return out;
}

export function unpackRects(packed: Int32Array): Rect[] {
  const out: Rect[] = [];
  for (let i = 0; i < packed.length; i += 4) {
    out.push({ left: packed[i], top: packed[i + 1], width: packed[i + 2], height: packed[i + 3] });
  }
  return out;
}

/**
 * Builds occluded variants directly at model resolution: the unoccluded model
 * input is computed once, and each variant recomputes only the region its patch
 * reaches through the bilinear resize (exact: same arithmetic as a full resize).
 */
export class VariantBuilder {
  readonly pre: Preprocessor;
  readonly base: Float32Array;
  private readonly view: SourceView;

  constructor(job: FrameJob) {
    this.pre = new Preprocessor(job.width, job.height, job.spec);
    this.view = { width: job.width, height: job.height, data: job.data, fill: job.fill, occluders: job.occluders };
    this.base = new Float32Array(this.pre.size);
    this.pre.render(this.view, this.base, 0);
  }

  /** Fill `buf` with the model inputs of the variants, one after another. */
  build(rects: readonly Rect[], buf: Float32Array): void {
    const { pre, base } = this;
    const size = pre.size;
    const occluders = this.view.occluders;
    rects.forEach((rect, i) => {
      const offset = i * size;
      buf.set(base, offset);
      if (rect.width <= 0 || rect.height <= 0) return;
      const region = pre.affected(rect);
      if (!region) return;
      pre.render({ ...this.view, occluders: [...occluders, rect] }, buf, offset, region);
    });
  }

  /**
   * The changed part of each variant's model input, as windows of one size (the
   * incremental engine's input): the region its patch reaches through the
   * resize, inside a window of the unoccluded input.
   */
  windows(rects: readonly Rect[]): Windows {
    const { pre, base } = this;
    const count = rects.length;
    const region = regionsOf(count);
    let h = 1;
    let w = 1;
    const regions = rects.map((rect, b) => {
      const r = rect.width > 0 && rect.height > 0 ? pre.affected(rect) : null;
      if (r) {
        [region.top0[b], region.top1[b], region.left0[b], region.left1[b]] = [r.top, r.bottom, r.left, r.right];
        h = Math.max(h, r.bottom - r.top);
        w = Math.max(w, r.right - r.left);
      }
      return r;
    });
    const top = new Int32Array(count);
    const left = new Int32Array(count);
    for (let b = 0; b < count; b++) {
      top[b] = placeWindow(region.top0[b], region.top1[b], h, pre.height);
      left[b] = placeWindow(region.left0[b], region.left1[b], w, pre.width);
    }
    const C = pre.channels;
    const data = gather({ data: base, height: pre.height, width: pre.width, channels: C }, { height: h, width: w, top, left }, 0, null, new Float32Array(count * h * w * C));
    const occluders = this.view.occluders;
    regions.forEach((r, b) => {
      if (r) pre.render({ ...this.view, occluders: [...occluders, rects[b]] }, data, b * h * w * C, r, { top: top[b], left: left[b], width: w });
    });
    return { count, height: h, width: w, channels: C, top, left, ...region, data };
  }
}

/** Run the model on a packed batch; every tensor is released before returning. */
export function predictBatch(model: LoadedModel, spec: InputSpec, buf: Float32Array, n: number): Float32Array {
  const size = spec.height * spec.width * spec.channels;
  const out = tf.tidy(() => {
    const x = tf.tensor4d(buf.subarray(0, n * size), [n, spec.height, spec.width, spec.channels]);
    return model.predict(x);
  });
  try {
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
  }
}
