import type { OcclusionResult, Prediction } from '../result.js';
import { shownPath } from '../errors.js';
import { percent } from './format.js';
import { mapRange } from '../heatmap/accumulate.js';
import { contrastOf, contrastNote, LOW_CONTRAST } from '../render/legend.js';

/** The files written for one image: its overlay, its raw map, and with class 'all' each class's. */
export interface OutputFiles {
  output?: string | null;
  map?: string | null;
  /** --class all: each class's overlay (and map) */
  classes?: { class: string; output: string; map: string | null }[];
}

/** The --json object of one image (stable field names: scripts depend on them). */
export function resultJson(r: OcclusionResult, paths: OutputFiles) {
  return {
    image: r.image,
    model: r.model,
    backend: r.backend,
    engine: r.engine,
    ...(r.gates ? { gates: r.gates } : {}),
    ...(r.input ? { input: r.input } : {}),
    labels: r.labels,
    predicted: r.predicted,
    class: r.class,
    classIndex: r.classIndex,
    probability: r.probability,
    probabilities: r.probabilities,
    softmaxApplied: r.softmaxApplied,
    patch: r.patch,
    stride: r.stride,
    fill: r.fill,
    mode: r.mode,
    width: r.width,
    height: r.height,
    variants: r.variants,
    evaluated: r.evaluated,
    minProbability: r.minProbability,
    minPatch: r.minPatch,
    /** the map's total contrast (probability); below 0.01 the map shows no evidence */
    contrast: contrastOf(r),
    lowContrast: contrastOf(r) < LOW_CONTRAST,
    ...(r.iterations ? { iterations: r.iterations } : {}),
    ...(paths.classes
      ? {
          classes: r.maps.map((m) => {
            const files = paths.classes!.find((c) => c.class === m.class);
            return { class: m.class, classIndex: m.classIndex, probability: m.probability, minProbability: m.minProbability, minPatch: m.minPatch, output: files?.output ?? null, map: files?.map ?? null };
          }),
        }
      : {}),
    output: paths.output ?? null,
    map: paths.map ?? null,
    seconds: Math.round(r.seconds * 1000) / 1000,
  };
}

export function predictionJson(p: Prediction, modelLabel: string, backend: string) {
  return { ...p, model: modelLabel, backend };
}

const box = (b: { left: number; top: number; width: number; height: number }) => `the ${b.width}x${b.height} patch at (${b.left},${b.top})`;

/** Human-readable lines for one result. */
export function resultText(r: OcclusionResult, paths: OutputFiles): string[] {
  const lines = [
    `${shownPath(r.image)}: predicted ${r.predicted.class} (${percent(r.predicted.probability)})`,
    `  target ${r.class}: ${percent(r.probability)} unoccluded; minimum ${percent(r.minProbability)} when ${box(r.minPatch)} is covered`,
  ];
  if (r.iterations) {
    r.iterations.forEach((p, i) => lines.push(`  pass ${i + 1}: ${percent(p.probability)} -> minimum ${percent(p.minProbability)} with ${box(p.minPatch)} covered`));
  }
  const { min, max } = mapRange(r.map);
  const quantity = r.mode === 'drop' ? `drop in P(${r.class})` : `P(${r.class})`;
  lines.push(`  map (overlay${r.iterations ? `, pass ${r.iterations.length}` : ''}): ${quantity} per pixel, the mean over the patches that cover it: ${percent(min)} to ${percent(max)}; the minimum above is a single patch`);
  const flat = contrastNote(contrastOf(r), r.class);
  if (flat) lines.push(`  no contrast: ${flat}; the map's colours show no evidence`);
  if (r.softmaxApplied) lines.push('  note: the model outputs are not probabilities; softmax was applied');
  if (paths.classes) {
    for (const m of [...r.maps].sort((a, b) => a.classIndex - b.classIndex)) {
      const files = paths.classes.find((c) => c.class === m.class);
      lines.push(`  class ${m.class}: ${percent(m.probability)} unoccluded; minimum ${percent(m.minProbability)} when ${box(m.minPatch)} is covered${files ? `; overlay: ${files.output}` : ''}${files?.map ? `; map: ${files.map}` : ''}`);
    }
  } else {
    if (paths.output) lines.push(`  overlay: ${paths.output}`);
    if (paths.map) lines.push(`  map: ${paths.map}`);
  }
  lines.push(`  backend: ${r.backend}, engine: ${r.engine}${r.gates ? " (squeeze-and-excitation gates held at the unoccluded frame's: approximate)" : ''}${r.input ? `, input ${r.input[1]}x${r.input[0]}` : ''}`);
  return lines;
}
