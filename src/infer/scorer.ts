import type { Rect } from '../plan/grid.js';
import type { LoadedModel } from '../model/load.js';
import type { ActiveBackend } from '../model/backends.js';
import { VariantBuilder, predictBatch, type FrameJob } from './variants.js';

/**
 * Scores variants of one frame: `score(rects)` returns the model's raw outputs,
 * rects.length rows of `outputs` values. A rect of width 0 scores the frame itself.
 */
export interface Scorer {
  readonly backend: ActiveBackend;
  /** parallel workers behind this scorer (1 when in-process) */
  readonly workers: number;
  setFrame(job: FrameJob): Promise<void>;
  score(rects: readonly Rect[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Scores on the calling thread (tfjs-node, which threads internally, or a single wasm/cpu worker). */
export class InProcessScorer implements Scorer {
  readonly workers = 1;
  private builder: VariantBuilder | null = null;
  private job: FrameJob | null = null;
  private buf = new Float32Array(0);

  constructor(
    private readonly model: LoadedModel,
    readonly backend: ActiveBackend,
  ) {}

  async setFrame(job: FrameJob): Promise<void> {
    this.job = job;
    this.builder = new VariantBuilder(job);
  }

  async score(rects: readonly Rect[]): Promise<Float32Array> {
    if (!this.builder || !this.job) throw new Error('setFrame() first');
    const need = rects.length * this.builder.pre.size;
    if (this.buf.length < need) this.buf = new Float32Array(need);
    this.builder.build(rects, this.buf);
    return predictBatch(this.model, this.job.spec, this.buf, rects.length);
  }

  async close(): Promise<void> {
    this.builder = null;
    this.buf = new Float32Array(0);
  }
}
