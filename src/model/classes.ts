import { runtimeError, usageError } from '../errors.js';

export function resolveLabels(outputs: number, labels: string[] | undefined, source: string): string[] {
  if (!labels) return Array.from({ length: outputs }, (_, i) => String(i));
  if (labels.length !== outputs) {
    throw runtimeError(`${source} lists ${labels.length} labels but the model has ${outputs} outputs`);
  }
  return labels;
}

/** --class: a label name (exact, then case-insensitive) or an index. */
export function resolveClass(spec: string | number, labels: string[]): number {
  if (typeof spec === 'string') {
    const exact = labels.indexOf(spec);
    if (exact >= 0) return exact;
    const folded = labels.findIndex((l) => l.toLowerCase() === spec.toLowerCase());
    if (folded >= 0) return folded;
    if (!/^\s*-?\d+\s*$/.test(spec)) {
      throw usageError(`unknown class "${spec}"; the model's classes are ${labels.join(', ')}`);
    }
  }
  const i = Number(spec);
  if (!Number.isInteger(i) || i < 0 || i >= labels.length) {
    throw usageError(`class index ${spec} is out of range; the model has ${labels.length} classes (0..${labels.length - 1})`);
  }
  return i;
}

/** A model output with NaN or an infinity is no prediction: a runtime error naming the model and the image. */
export function assertFinite(values: ArrayLike<number>, model: string, image: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw runtimeError(`${model}: output for ${image} is not finite (${values[i]})`, image);
  }
}

export function isProbabilityVector(v: ArrayLike<number>): boolean {
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    if (!(v[i] >= 0 && v[i] <= 1)) return false;
    sum += v[i];
  }
  return Math.abs(sum - 1) < 1e-3;
}

export function softmaxInPlace(v: Float32Array | Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]);
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] = Math.exp(v[i] - max);
    sum += v[i];
  }
  for (let i = 0; i < v.length; i++) v[i] /= sum;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
