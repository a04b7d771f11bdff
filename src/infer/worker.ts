/**
 * An inference worker thread: its own tfjs backend and copy of the model, fed
 * frames and batches of patch rectangles by the pool (see pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { initBackend, type ActiveBackend } from '../model/backends.js';
import { loadModel, type LoadedModel, type ModelRef } from '../model/load.js';
import { unpackRects, type FrameJob } from './variants.js';
import { localScorer, type Scorer } from './scorer.js';
import type { Engine, PlanOptions } from './incremental/support.js';

export type WorkerRequest =
  | { type: 'init'; id: number; backend: ActiveBackend; model: ModelRef; engine: Engine; options: PlanOptions }
  | { type: 'frame'; id: number; job: FrameJob }
  | { type: 'score'; id: number; rects: Int32Array }
  | { type: 'memory'; id: number };

export type WorkerReply =
  | { id: number; ok: true; out?: Float32Array; outputs?: number; numTensors?: number }
  | { id: number; ok: false; error: string; kind: 'usage' | 'runtime' };

let model: LoadedModel | null = null;
let scorer: Scorer | null = null;

async function handle(msg: WorkerRequest): Promise<WorkerReply> {
  switch (msg.type) {
    case 'init': {
      await initBackend(msg.backend);
      model = await loadModel(msg.model);
      scorer = localScorer(model, msg.backend, msg.engine, msg.options);
      return { id: msg.id, ok: true, outputs: model.outputs };
    }
    case 'frame': {
      if (!scorer) throw new Error('worker used before init');
      await scorer.setFrame(msg.job);
      return { id: msg.id, ok: true };
    }
    case 'score': {
      if (!scorer) throw new Error('worker used before init');
      const out = await scorer.score(unpackRects(msg.rects));
      return { id: msg.id, ok: true, out };
    }
    case 'memory': {
      const tf = await import('@tensorflow/tfjs-core');
      return { id: msg.id, ok: true, numTensors: tf.memory().numTensors };
    }
  }
}

parentPort!.on('message', (msg: WorkerRequest) => {
  handle(msg).then(
    (reply) => {
      const transfer = reply.ok && reply.out ? [reply.out.buffer as ArrayBuffer] : [];
      parentPort!.postMessage(reply, transfer);
    },
    (err: unknown) => {
      const e = err as { message?: string; kind?: 'usage' | 'runtime' };
      parentPort!.postMessage({ id: msg.id, ok: false, error: e?.message ?? String(err), kind: e?.kind ?? 'runtime' });
    },
  );
});
