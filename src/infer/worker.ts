/**
 * An inference worker thread: its own tfjs backend and copy of the model, fed
 * frames and batches of patch rectangles by the pool (see pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { initBackend, type ActiveBackend } from '../model/backends.js';
import { loadModel, type LoadedModel } from '../model/load.js';
import { VariantBuilder, predictBatch, unpackRects, type FrameJob } from './variants.js';

export type WorkerRequest =
  | { type: 'init'; id: number; backend: ActiveBackend; model: string }
  | { type: 'frame'; id: number; job: FrameJob }
  | { type: 'score'; id: number; rects: Int32Array }
  | { type: 'memory'; id: number };

export type WorkerReply =
  | { id: number; ok: true; out?: Float32Array; outputs?: number; numTensors?: number }
  | { id: number; ok: false; error: string; kind: 'usage' | 'runtime' };

let model: LoadedModel | null = null;
let builder: VariantBuilder | null = null;
let job: FrameJob | null = null;
let buf = new Float32Array(0);

async function handle(msg: WorkerRequest): Promise<WorkerReply> {
  switch (msg.type) {
    case 'init': {
      await initBackend(msg.backend);
      model = await loadModel(msg.model);
      return { id: msg.id, ok: true, outputs: model.outputs };
    }
    case 'frame': {
      job = msg.job;
      builder = new VariantBuilder(job);
      return { id: msg.id, ok: true };
    }
    case 'score': {
      if (!model || !builder || !job) throw new Error('worker used before init/frame');
      const rects = unpackRects(msg.rects);
      const need = rects.length * builder.pre.size;
      if (buf.length < need) buf = new Float32Array(need);
      builder.build(rects, buf);
      const out = predictBatch(model, job.spec, buf, rects.length);
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
