import * as tf from '@tensorflow/tfjs-core';
import type { Rect } from '../plan/grid.js';
import type { LoadedModel } from '../model/load.js';
import type { ActiveBackend } from '../model/backends.js';
import type { Scorer } from './scorer.js';
import type { FrameJob } from './variants.js';

/**
 * --exact-reference: the straightforward procedure, kept as the yardstick for
 * the fast path. Each variant is painted on a full-resolution float copy of the
 * frame, which then goes through tf.image.resizeBilinear (half-pixel centres),
 * the centre crop and the normalisation, all as tensor ops.
 */
export class ReferenceScorer implements Scorer {
  readonly workers = 1;
  private job: FrameJob | null = null;
  private frame: Float32Array = new Float32Array(0);
  private fillFrame: Float32Array = new Float32Array(0);

  constructor(
    private readonly model: LoadedModel,
    readonly backend: ActiveBackend,
  ) {}

  async setFrame(job: FrameJob): Promise<void> {
    this.job = job;
    const n = job.width * job.height * 3;
    this.frame = new Float32Array(n);
    this.fillFrame = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      this.frame[i] = job.data[i] / 255;
      this.fillFrame[i] = job.fill.kind === 'constant' ? job.fill.rgb[i % 3] : job.fill.data[i] / 255;
    }
    for (const r of job.occluders) this.paint(this.frame, r);
  }

  private paint(dst: Float32Array, r: Rect): void {
    const w = this.job!.width;
    for (let y = r.top; y < r.top + r.height; y++) {
      const s = (y * w + r.left) * 3;
      dst.set(this.fillFrame.subarray(s, s + r.width * 3), s);
    }
  }

  async score(rects: readonly Rect[]): Promise<Float32Array> {
    const job = this.job;
    if (!job) throw new Error('setFrame() first');
    const { spec } = job;
    const n = rects.length;
    const frameSize = this.frame.length;
    const batch = new Float32Array(n * frameSize);
    rects.forEach((r, i) => {
      batch.set(this.frame, i * frameSize);
      if (r.width > 0 && r.height > 0) this.paint(batch.subarray(i * frameSize, (i + 1) * frameSize), r);
    });
    const out = tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(batch, [n, job.height, job.width, 3]);
      if (spec.crop === 'center') {
        const [rh, rw] = spec.resize ?? [job.height, job.width];
        if (rh !== job.height || rw !== job.width) x = tf.image.resizeBilinear(x, [rh, rw], false, true);
        const oy = Math.floor((rh - spec.height) / 2);
        const ox = Math.floor((rw - spec.width) / 2);
        x = tf.slice(x, [0, oy, ox, 0], [n, spec.height, spec.width, 3]);
      } else if (spec.height !== job.height || spec.width !== job.width) {
        x = tf.image.resizeBilinear(x, [spec.height, spec.width], false, true);
      }
      if (spec.order === 'bgr') x = tf.reverse(x, -1);
      if (spec.channels === 1) x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true) as tf.Tensor4D;
      const [lo, hi] = spec.range;
      x = tf.add(tf.mul(x, hi - lo), lo);
      if (spec.mean) x = tf.sub(x, tf.tensor1d(spec.mean));
      if (spec.std) x = tf.div(x, tf.tensor1d(spec.std));
      return this.model.predict(x);
    });
    try {
      return out.dataSync() as Float32Array;
    } finally {
      out.dispose();
    }
  }

  async close(): Promise<void> {
    this.frame = new Float32Array(0);
    this.fillFrame = new Float32Array(0);
  }
}
