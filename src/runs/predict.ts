/** Classification of many images without occlusion (`occlude predict`). */
import type { Session, SessionOptions } from '../session.js';
import type { Prediction } from '../result.js';
import { OccludeError } from '../errors.js';
import { expandInputs } from './inputs.js';
import { asOccludeError, useSession, type RunEvents } from './events.js';

export interface PredictOptions extends SessionOptions {
  /** image files, folders (their images) and glob patterns */
  inputs: string[];
  /** an open session to run on (it stays open) */
  session?: Session;
}

export interface PredictEvents extends RunEvents {
  prediction?(p: Prediction): void;
}

export interface PredictResult {
  predictions: Prediction[];
  failed: number;
}

export async function runPredict(o: PredictOptions, events: PredictEvents = {}): Promise<PredictResult> {
  const inputs = await expandInputs(o.inputs, false);
  const { session, release } = await useSession(o, events);
  const predictions: Prediction[] = [];
  let failed = 0;
  try {
    for (const input of inputs.files) {
      try {
        const p = await session.predict(input.file);
        predictions.push(p);
        events.prediction?.(p);
      } catch (err) {
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err;
        failed++;
        events.failure?.({ image: input.file, error: asOccludeError(err), of: inputs.files.length });
      }
    }
  } finally {
    await release();
  }
  return { predictions, failed };
}
