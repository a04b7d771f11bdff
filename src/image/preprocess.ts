import type { Rect } from '../plan/grid.js';
import type { InputSpec } from '../model/metadata.js';
import { affectedRange, bilinearAxis, type AxisTable } from './resize.js';
import { usageError } from '../errors.js';

/** What an occluded pixel becomes: one colour, or the pixel of another image (blur). */
export type Fill = { kind: 'constant'; rgb: [number, number, number] } | { kind: 'image'; data: Uint8Array };

/**
 * A frame with some rectangles painted with the fill, read lazily: the painted
 * frame is never materialised, so a variant costs only the pixels it changes.
 */
export interface SourceView {
  width: number;
  height: number;
  data: Uint8Array;
  fill: Fill;
  occluders: readonly Rect[];
}

export interface Region {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Where a window of the model input starts, and its width. */
export interface Window {
  top: number;
  left: number;
  width: number;
}

const LUMA = [0.299, 0.587, 0.114];

/**
 * The model's preprocessing (resize, centre crop, range, mean/std, channel order)
 * as one separable bilinear map from the frame to the model's input. Because
 * bilinear resampling is linear and local, an occluded variant differs from the
 * unoccluded input only in `affected(rect)`, and that region can be recomputed
 * from the painted frame exactly.
 */
export class Preprocessor {
  readonly rows: AxisTable;
  readonly cols: AxisTable;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  private readonly scale: Float64Array;
  private readonly shift: Float64Array;
  private readonly order: number[];

  constructor(
    readonly srcWidth: number,
    readonly srcHeight: number,
    readonly spec: InputSpec,
  ) {
    const { height, width } = spec;
    let rh: number;
    let rw: number;
    if (spec.crop === 'center') {
      [rh, rw] = spec.resize ?? [srcHeight, srcWidth];
      if (rh < height || rw < width) {
        throw usageError(`image ${srcWidth}x${srcHeight} is smaller than the model's ${width}x${height} centre crop`);
      }
    } else {
      [rh, rw] = [height, width];
    }
    const oy = Math.floor((rh - height) / 2);
    const ox = Math.floor((rw - width) / 2);
    this.rows = bilinearAxis(srcHeight, rh, oy, height);
    this.cols = bilinearAxis(srcWidth, rw, ox, width);
    this.height = height;
    this.width = width;
    this.channels = spec.channels;
    // v in [0,1] -> v * (hi - lo) + lo -> (v - mean) / std, folded into one affine map per channel
    const [lo, hi] = spec.range;
    this.scale = new Float64Array(spec.channels);
    this.shift = new Float64Array(spec.channels);
    for (let c = 0; c < spec.channels; c++) {
      const mean = spec.mean ? spec.mean[spec.mean.length === 1 ? 0 : c] : 0;
      const std = spec.std ? spec.std[spec.std.length === 1 ? 0 : c] : 1;
      this.scale[c] = (hi - lo) / std;
      this.shift[c] = (lo - mean) / std;
    }
    this.order = spec.order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  }

  get size(): number {
    return this.height * this.width * this.channels;
  }

  /** The model-input region that a painted source rectangle changes, or null when the model cannot see it. */
  affected(rect: Rect): Region | null {
    const r = affectedRange(this.rows, rect.top, rect.top + rect.height);
    if (!r) return null;
    const c = affectedRange(this.cols, rect.left, rect.left + rect.width);
    if (!c) return null;
    return { top: r[0], bottom: r[1], left: c[0], right: c[1] };
  }

  private get fullWindow(): Window {
    return { top: 0, left: 0, width: this.width };
  }

  full(): Region {
    return { top: 0, bottom: this.height, left: 0, right: this.width };
  }

  /**
   * Write the model input of `view` for `region` into `out` at `offset` (HWC, float32). `out` holds
   * the whole input, or with `window` only the window of that size whose top-left corner is at (top, left).
   */
  render(view: SourceView, out: Float32Array, offset: number, region: Region = this.full(), window: Window = this.fullWindow): void {
    const { rows, cols, channels } = this;
    const sw = view.width;
    const data = view.data;
    const occ = view.occluders;
    const fill = view.fill;
    const px = new Float64Array(12);
    const rgb = new Float64Array(3);
    // source pixel -> value in [0,1], honouring occluders
    const read = (sy: number, sx: number, dst: Float64Array, at: number): void => {
      for (let k = 0; k < occ.length; k++) {
        const o = occ[k];
        if (sx >= o.left && sx < o.left + o.width && sy >= o.top && sy < o.top + o.height) {
          if (fill.kind === 'constant') {
            dst[at] = fill.rgb[0];
            dst[at + 1] = fill.rgb[1];
            dst[at + 2] = fill.rgb[2];
          } else {
            const i = (sy * sw + sx) * 3;
            dst[at] = fill.data[i] / 255;
            dst[at + 1] = fill.data[i + 1] / 255;
            dst[at + 2] = fill.data[i + 2] / 255;
          }
          return;
        }
      }
      const i = (sy * sw + sx) * 3;
      dst[at] = data[i] / 255;
      dst[at + 1] = data[i + 1] / 255;
      dst[at + 2] = data[i + 2] / 255;
    };
    for (let y = region.top; y < region.bottom; y++) {
      const y0 = rows.lo[y];
      const y1 = rows.hi[y];
      const fy = rows.frac[y];
      for (let x = region.left; x < region.right; x++) {
        const x0 = cols.lo[x];
        const x1 = cols.hi[x];
        const fx = cols.frac[x];
        read(y0, x0, px, 0);
        read(y0, x1, px, 3);
        read(y1, x0, px, 6);
        read(y1, x1, px, 9);
        for (let c = 0; c < 3; c++) {
          const top = px[c] + (px[3 + c] - px[c]) * fx;
          const bottom = px[6 + c] + (px[9 + c] - px[6 + c]) * fx;
          rgb[c] = top + (bottom - top) * fy;
        }
        const o = offset + ((y - window.top) * window.width + (x - window.left)) * channels;
        if (channels === 1) {
          const v = LUMA[0] * rgb[0] + LUMA[1] * rgb[1] + LUMA[2] * rgb[2];
          out[o] = v * this.scale[0] + this.shift[0];
        } else {
          for (let c = 0; c < 3; c++) out[o + c] = rgb[this.order[c]] * this.scale[c] + this.shift[c];
        }
      }
    }
  }
}
