import type { Rect } from '../plan/grid.js';
import type { LoadedModel } from '../model/load.js';
import type { ActiveBackend } from '../model/backends.js';
import { VariantBuilder, predictBatch, type FrameJob } from './variants.js';
import { IncrementalModel } from './incremental/model.js';
import { incrementalPlan, type Engine, type PlanOptions } from './incremental/support.js';

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

/** Scores on the calling thread with full forward passes (tfjs-node, which threads internally, or a single wasm/cpu worker). */
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

/**
 * Scores on the calling thread with the incremental engine: the unoccluded frame
 * runs once per frame, and each variant recomputes only the region its patch changes.
 */
export class IncrementalScorer implements Scorer {
  readonly workers = 1;
  private builder: VariantBuilder | null = null;
  readonly engine: IncrementalModel;

  constructor(
    model: LoadedModel,
    readonly backend: ActiveBackend,
    options: PlanOptions = {},
  ) {
    const plan = incrementalPlan(model, options);
    if ('reason' in plan) throw new Error(`incremental engine: ${plan.reason}`);
    this.engine = new IncrementalModel(plan);
  }

  async setFrame(job: FrameJob): Promise<void> {
    this.builder = new VariantBuilder(job);
    this.engine.setFrame(this.builder.base, [job.spec.height, job.spec.width, job.spec.channels]);
  }

  async score(rects: readonly Rect[]): Promise<Float32Array> {
    if (!this.builder) throw new Error('setFrame() first');
    if (rects.every((r) => r.width <= 0 || r.height <= 0)) {
      const base = this.engine.baseOutput;
      const out = new Float32Array(rects.length * base.length);
      for (let i = 0; i < rects.length; i++) out.set(base, i * base.length);
      return out;
    }
    return this.engine.run(this.builder.windows(rects));
  }

  async close(): Promise<void> {
    this.builder = null;
    this.engine.dispose();
  }
}

/** A scorer on this thread for the chosen engine. */
export function localScorer(model: LoadedModel, backend: ActiveBackend, engine: Engine, options: PlanOptions = {}): Scorer {
  return engine === 'incremental' ? new IncrementalScorer(model, backend, options) : new InProcessScorer(model, backend);
}
