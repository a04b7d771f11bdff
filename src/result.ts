/** What occlusion and prediction give: plain data (numbers, names and Float32Array maps), ready for JSON. */
import type { Rect } from './plan/grid.js';
import type { Engine } from './infer/incremental/support.js';
import type { Mode } from './options.js';

export interface Prediction {
  image: string;
  class: string;
  classIndex: number;
  probability: number;
  probabilities: Record<string, number>;
  /** with input.chooseScale: the [height, width] the frame was scored at */
  input?: [number, number];
}

/** The heat-map of one class. */
export interface ClassMap {
  class: string;
  classIndex: number;
  /** the class's probability on the unoccluded image */
  probability: number;
  minProbability: number;
  minPatch: Rect;
  /** height x width, row-major, in the result's mode */
  map: Float32Array;
}

export interface Pass {
  probability: number;
  minProbability: number;
  minPatch: Rect;
}

export interface OcclusionResult {
  image: string;
  width: number;
  height: number;
  model: string;
  backend: string;
  /** with input.chooseScale: the [height, width] the frame was scored at */
  input?: [number, number];
  labels: string[];
  predicted: { class: string; classIndex: number; probability: number };
  class: string;
  classIndex: number;
  /** target-class probability on the unoccluded image */
  probability: number;
  probabilities: Record<string, number>;
  softmaxApplied: boolean;
  patch: number;
  stride: number;
  fill: string;
  mode: Mode;
  variants: number;
  /** variants that went through the model (the rest cannot change its input) */
  evaluated: number;
  minProbability: number;
  minPatch: Rect;
  iterations?: Pass[];
  /** the heat-map of the last pass (height x width, row-major) */
  map: Float32Array;
  /** every class mapped in the sweep, the target first */
  maps: ClassMap[];
  /** how the variants were scored: full forward passes, the incremental engine, or the --exact-reference procedure */
  engine: Engine | 'reference';
  /**
   * "frame" when the incremental engine held the model's squeeze-and-excitation gates at the
   * unoccluded frame's values (its occlude.json asks for it): the map is then an approximation
   */
  gates?: 'frame';
  seconds: number;
}

/** The result seen from one of its classes' maps (it must be among `maps`), as if that class had been the target. */
export function forClass(r: OcclusionResult, cls: string): OcclusionResult {
  const m = r.maps.find((x) => x.class === cls);
  if (!m) throw new Error(`no map of class ${cls} in this result (maps: ${r.maps.map((x) => x.class).join(', ')})`);
  return { ...r, class: m.class, classIndex: m.classIndex, probability: m.probability, minProbability: m.minProbability, minPatch: m.minPatch, map: m.map, iterations: undefined };
}
