/** Which engine scores a model's variants: incremental when it can run the model and its cache fits the budget, else full. */
import type { LoadedModel } from '../model/load.js';
import { incrementalPlan, type Engine, type EngineRequest } from '../infer/incremental/support.js';
import { usageError } from '../errors.js';

export interface EngineChoice {
  name: Engine | 'reference';
  /** why this engine runs the model */
  reason: string;
  /** incremental: bytes of one frame's cached activations (null when the model's sizes are open) */
  cacheBytes?: number | null;
  /** incremental: squeeze-and-excitation gates held at the unoccluded frame's values (0: every map exact) */
  frameGates?: number;
}

/**
 * The engine for a model: `auto` takes the incremental engine when it can run the model
 * and its cached activations fit the memory budget; asking for `incremental` on a model
 * it cannot run is a usage error.
 */
export function chooseEngine(
  model: LoadedModel,
  request: EngineRequest,
  o: { exactReference: boolean; fits: (cacheBytes: number) => boolean; workers: number; budget: number; gates?: 'frame' | 'exact' },
): EngineChoice {
  if (o.exactReference) return { name: 'reference', reason: '--exact-reference: the straightforward procedure' };
  if (request === 'full') return { name: 'full', reason: 'asked for' };
  const plan = incrementalPlan(model, { frameGates: o.gates === 'frame' });
  let reason = 'reason' in plan ? plan.reason : null;
  const cacheBytes = 'reason' in plan ? null : plan.cacheBytes;
  if (!reason && !o.fits(cacheBytes ?? 0)) {
    reason = `one frame's cached activations (${((cacheBytes ?? 0) / 2 ** 20).toFixed(0)} MB in each of ${o.workers} worker(s)) do not fit the memory budget of ${(o.budget / 2 ** 20).toFixed(0)} MB`;
  }
  if (reason || 'reason' in plan) {
    if (request === 'incremental') throw usageError(`--engine incremental cannot run ${model.file}: ${reason}`, model.file);
    return { name: 'full', reason: reason! };
  }
  const gates = plan.frameGates
    ? `; ${plan.frameGates} squeeze-and-excitation gates are held at the unoccluded frame's values, an approximation the model's occlude.json asks for ("incremental": {"gates": "frame"}; --engine full gives the exact map)`
    : '';
  return { name: 'incremental', reason: `the layers before ${plan.frontier.join(', ') || 'the output'} are recomputed only where a patch changes them${gates}`, cacheBytes, frameGates: plan.frameGates };
}
