import type { LoadedModel } from '../../model/load.js';
import { planGraph, type GraphPlan, type PlanOptions } from './graph.js';
import type { EngineRequest } from '../../options.js';

/** full: a forward pass per variant; incremental: only what each patch changes (LayersModels). */
export type Engine = 'full' | 'incremental';
export type { EngineRequest, PlanOptions };

/** The incremental engine's plan for a model, or why it cannot run it. */
export function incrementalPlan(model: LoadedModel, options: PlanOptions = {}): GraphPlan | { reason: string } {
  if (!model.layers) return { reason: `a ${model.kind} runs on the full engine (the incremental engine reads LayersModels)` };
  return planGraph(model.layers, options);
}
