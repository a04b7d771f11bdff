import { Worker } from 'node:worker_threads';
import type { Rect } from '../plan/grid.js';
import type { ActiveBackend } from '../model/backends.js';
import { OccludeError, runtimeError } from '../errors.js';
import type { Scorer } from './scorer.js';
import { packRects, type FrameJob } from './variants.js';
import type { WorkerReply, WorkerRequest } from './worker.js';
import type { Engine, PlanOptions } from './incremental/support.js';
import type { ModelRef } from '../model/load.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve: (r: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };

const YOUNG_GENERATION_MB = 2;

/**
 * Workers get the parent's node flags (--import loaders and the like), except
 * the ones that only make sense for the main script (--input-type, --eval) and
 * the V8 and process-wide ones (--max-semi-space-size, --trace-gc, --title...),
 * which Node refuses for a worker. Node names the refused flags in its error,
 * so they are dropped and the worker started again.
 */
export function workerExecArgv(parent: readonly string[]): string[] {
  return parent.filter((a) => !/^--(input-type|eval|print)\b/.test(a) && a !== '-e' && a !== '-p');
}

function spawnWorker(url: URL): Worker {
  let execArgv = workerExecArgv(process.execArgv);
  for (;;) {
    try {
      // a small young generation makes the worker collect its per-batch garbage early, so that its
      // heap (and the process's peak RSS) does not creep up with the number of batches
      return new Worker(url, { execArgv, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const refused = e.code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? (e.message ?? '').split(/flags?:\s*/)[1]?.split(/,\s*/) : undefined;
      const left = refused ? execArgv.filter((a) => !refused.includes(a)) : execArgv;
      if (left.length === execArgv.length) throw err;
      execArgv = left;
    }
  }
}

class Thread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  dead: Error | null = null;

  constructor(url: URL) {
    this.worker = spawnWorker(url);
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply);
      else p.reject(new OccludeError(reply.error, { kind: reply.kind }));
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(runtimeError(`inference worker failed: ${err.message}`, undefined, err)));
    this.worker.on('exit', (code) => {
      if (code !== 0) fail(runtimeError(`inference worker exited with code ${code}`));
    });
  }

  get load(): number {
    return this.pending.size;
  }

  request(msg: WithoutId<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerReply & { ok: true }> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }
}

/**
 * A pool of worker threads, each with its own backend and model, because the
 * wasm backend runs on one core in Node. Batches go to the least-loaded worker.
 */
export class WorkerPool implements Scorer {
  private readonly threads: Thread[];

  private constructor(
    threads: Thread[],
    readonly backend: ActiveBackend,
  ) {
    this.threads = threads;
  }

  /** `model`: what each worker loads its copy from (a model.json path, or a LoadedModel's workerSource()) */
  static async start(size: number, backend: ActiveBackend, source: ModelRef | string, engine: Engine = 'full', options: PlanOptions = {}): Promise<WorkerPool> {
    const model: ModelRef = typeof source === 'string' ? { kind: 'file', file: source } : source;
    const url = new URL('./worker.js', import.meta.url);
    const threads = Array.from({ length: size }, () => new Thread(url));
    const pool = new WorkerPool(threads, backend);
    try {
      await Promise.all(threads.map((t) => t.request({ type: 'init', backend, model, engine, options })));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get workers(): number {
    return this.threads.length;
  }

  async setFrame(job: FrameJob): Promise<void> {
    await Promise.all(this.threads.map((t) => t.request({ type: 'frame', job })));
  }

  async score(rects: readonly Rect[]): Promise<Float32Array> {
    const t = this.threads.reduce((a, b) => (b.load < a.load ? b : a));
    const packed = packRects(rects);
    const reply = await t.request({ type: 'score', rects: packed }, [packed.buffer as ArrayBuffer]);
    return reply.out!;
  }

  /** Live tensors in each worker (the tests check that it does not grow). */
  async numTensors(): Promise<number[]> {
    return Promise.all(this.threads.map(async (t) => (await t.request({ type: 'memory' })).numTensors ?? -1));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
