/**
 * Every default and every validator of occlude's options, in one place. The API (Session, the runs,
 * the rendering functions), the CLI (its flag parsers and defaults) and the check manifest reader all
 * use these, so a value means the same and is refused with the same message everywhere. Messages are
 * sharp-style: `Expected positive integer for patch but received 0`.
 */
import os from 'node:os';
import { invalidParameter, OccludeError } from './errors.js';
import { COLORMAPS, type ColormapName } from './render/colormap.js';

export const BACKENDS = ['auto', 'node', 'wasm', 'cpu'] as const;
/** auto: tfjs-node if it loads, else wasm, else the pure-JS cpu backend */
export type BackendRequest = (typeof BACKENDS)[number];
export const ENGINES = ['auto', 'incremental', 'full'] as const;
/** incremental: recompute only what each patch changes (LayersModels); full: a forward pass per variant; auto: incremental when it can */
export type EngineRequest = (typeof ENGINES)[number];
export const MODES = ['prob', 'drop'] as const;
/** prob: the mean target probability per pixel; drop: the unoccluded probability minus it */
export type Mode = (typeof MODES)[number];
export const RULES = ['min', 'energy'] as const;
/** how `check` decides that a map points into the evidence boxes */
export type Rule = (typeof RULES)[number];
export { COLORMAPS, type ColormapName };

/** What fills an occluding patch: a grey level in [0,1], a hex colour, `mean` (the image's mean colour) or `blur`. */
export type FillSpec = number | string;
/** The colour scale of an overlay: the map's own min..max, or fixed [lo, hi]. */
export type RangeSpec = 'auto' | [number, number];

export const DEFAULTS = {
  patch: 32,
  // stride: half the patch (defaultStride)
  fill: 0.5 as FillSpec,
  mode: 'prob' as Mode,
  iterate: 1,
  colormap: 'afmhot' as ColormapName,
  alpha: 0.6,
  range: 'auto' as RangeSpec,
  legend: true,
  backend: 'auto' as BackendRequest,
  engine: 'auto' as EngineRequest,
  /** bytes for the whole process: 1 GiB */
  memoryBudget: 1024 ** 3,
  maxPixels: 50_000_000,
  rule: 'min' as Rule,
  minShare: 0.5,
};

/** The default stride: half the patch. */
export function defaultStride(patch: number): number {
  return Math.max(1, Math.floor(patch / 2));
}

/** The default worker count: one per core (wasm and cpu run on one core each); tfjs-node threads inside TensorFlow. */
export function defaultWorkers(backend: string): number {
  if (backend === 'node') return 1;
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

// ---- validators: each returns the value or throws a usage OccludeError (invalidParameter) ----

export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw invalidParameter(name, 'positive integer', value);
  return value;
}

/** A number in [lo, hi] (with `above`: in (lo, hi]). */
export function numberBetween(name: string, value: unknown, lo: number, hi: number, above = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (above ? value <= lo : value < lo) || value > hi) {
    throw invalidParameter(name, `number between ${lo} and ${hi}`, value);
  }
  return value;
}

/** One of `choices`; `expected` words the choices in the message (default `one of a, b, c`). */
export function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[], expected = `one of ${choices.join(', ')}`): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) throw invalidParameter(name, expected, value);
  return value as T;
}

export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidParameter(name, 'true or false', value);
  return value;
}

/** A stride larger than the patch leaves pixels that no patch covers (no value in the map): refused. */
export function strideWithinPatch(patch: number, stride: number): number {
  if (stride > patch) throw invalidParameter('stride', `integer between 1 and ${patch} (the patch size)`, stride, 'pixels between patches would never be covered');
  return stride;
}

/** The patch and its stride (default: half the patch), both validated. */
export function patchAndStride(patch: unknown = DEFAULTS.patch, stride?: unknown): { patch: number; stride: number } {
  const p = positiveInteger('patch', patch);
  return { patch: p, stride: strideWithinPatch(p, positiveInteger('stride', stride ?? defaultStride(p))) };
}

/** A fill, parsed: one colour (RGB in [0,1]), the image's mean colour, or a blurred copy of the image. */
export type ParsedFill = { kind: 'constant'; rgb: [number, number, number] } | { kind: 'mean' } | { kind: 'blur' };

export function parseFill(spec: unknown): ParsedFill {
  const why = 'number between 0 and 1, hex colour, mean or blur';
  if (typeof spec === 'number' || (typeof spec === 'string' && /^\s*[0-9.]+\s*$/.test(spec))) {
    const v = typeof spec === 'number' ? spec : Number(spec);
    if (!Number.isFinite(v) || v < 0 || v > 1) throw invalidParameter('fill', why, spec);
    return { kind: 'constant', rgb: [v, v, v] };
  }
  if (typeof spec !== 'string') throw invalidParameter('fill', why, spec);
  const s = spec.trim().toLowerCase();
  if (s === 'mean' || s === 'blur') return { kind: s };
  if (s === 'grey' || s === 'gray') return { kind: 'constant', rgb: [0.5, 0.5, 0.5] };
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/.exec(s);
  if (m) {
    const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
    return { kind: 'constant', rgb: [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255) as [number, number, number] };
  }
  throw invalidParameter('fill', why, spec);
}

/** A fill as it is shown and recorded: `0.5`, `#ff0000`, `mean`, `blur`. */
export function describeFill(spec: unknown): string {
  const p = parseFill(spec);
  if (p.kind !== 'constant') return p.kind;
  const [r, g, b] = p.rgb;
  return r === g && g === b ? String(+r.toFixed(4)) : '#' + p.rgb.map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('');
}

/** `auto`, `[lo, hi]` or the text `lo,hi` (lo < hi). */
export function colourRange(value: unknown): RangeSpec {
  if (value === 'auto') return 'auto';
  const parts = typeof value === 'string' ? value.split(',').map((s) => Number(s.trim())) : Array.isArray(value) ? value : [];
  if (parts.length !== 2 || parts.some((v) => typeof v !== 'number' || !Number.isFinite(v)) || !(parts[1] > parts[0])) {
    throw invalidParameter('range', 'auto or LO,HI with LO < HI', value);
  }
  return [parts[0], parts[1]];
}

/** A size in bytes: a positive number, or text such as `1GB`, `512MB`, `800M`, `2e9`. */
export function byteSize(name: string, value: unknown): number {
  if (typeof value === 'number') return positiveInteger(name, value);
  const bytes = typeof value === 'string' ? parseBytes(value) : null;
  if (bytes === null) throw invalidParameter(name, 'size in bytes (e.g. 1GB, 512MB)', value);
  return bytes;
}

/** "1GB", "512MB", "2e9", "800M" -> bytes; null when it is not a size. */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]i?b?|b)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase().replace(/i?b$/, '');
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  const v = Number(m[1]) * (mult[unit] ?? NaN);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : null;
}

// ---- the same validators for text (command-line flags): messages quote the text as given ----

/** `12` -> 12; anything but a positive whole number is refused. */
export function integerText(name: string, text: string): number {
  if (!/^\s*-?\d+\s*$/.test(text) || Number(text) <= 0) throw invalidParameter(name, 'positive integer', text);
  return Number(text);
}

export function numberText(name: string, text: string, lo: number, hi: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) throw invalidParameter(name, `number between ${lo} and ${hi}`, text);
  return n;
}

/** `227x227` (or `227,227`) -> [height, width]. */
export function heightWidthText(name: string, text: string): [number, number] {
  const m = /^(\d+)[x,](\d+)$/i.exec(text.trim());
  if (!m || +m[1] <= 0 || +m[2] <= 0) throw invalidParameter(name, 'HEIGHTxWIDTH', text);
  return [+m[1], +m[2]];
}

/** `0.5,0.5,0.5` -> numbers (exactly `count` of them when given). */
export function numbersText(name: string, text: string, count?: number): number[] {
  const a = text.split(',').map((s) => Number(s.trim()));
  if (a.some((x) => !Number.isFinite(x)) || (count && a.length !== count)) throw invalidParameter(name, `${count ?? 'comma-separated'} numbers`, text);
  return a;
}

// ---- option groups, resolved with their defaults ----

export interface OcclusionSettings {
  patch: number;
  stride: number;
  mode: Mode;
  iterate: number;
  fill: FillSpec;
  /** the fill as shown and recorded */
  fillName: string;
}

/** The occlusion options of one sweep, validated, with their defaults. */
export function occlusionSettings(o: { patch?: number; stride?: number; mode?: Mode; iterate?: number; fill?: FillSpec }): OcclusionSettings {
  const { patch, stride } = patchAndStride(o.patch ?? DEFAULTS.patch, o.stride);
  const mode = oneOf('mode', o.mode ?? DEFAULTS.mode, MODES);
  const iterate = positiveInteger('iterate', o.iterate ?? DEFAULTS.iterate);
  const fill = o.fill ?? DEFAULTS.fill;
  return { patch, stride, mode, iterate, fill, fillName: describeFill(fill) };
}

export interface RenderOptions {
  /** afmhot (default), viridis, inferno, jet or gray */
  colormap?: ColormapName;
  /** the heat-map's opacity over the image, 0..1 (default 0.6) */
  alpha?: number;
  /** 'auto' (the map's min and max, the default), [lo, hi], or the text 'lo,hi' */
  range?: RangeSpec | string;
  /** draw the colour bar (default true) */
  legend?: boolean;
}

/** Rendering options, validated, with their defaults. */
export function renderSettings(o: RenderOptions = {}): Required<RenderOptions> & { range: RangeSpec } {
  return {
    colormap: oneOf('colormap', o.colormap ?? DEFAULTS.colormap, COLORMAPS),
    alpha: numberBetween('alpha', o.alpha ?? DEFAULTS.alpha, 0, 1),
    range: colourRange(o.range ?? DEFAULTS.range),
    legend: boolean('legend', o.legend ?? DEFAULTS.legend),
  };
}

/**
 * Run `fn` (a validator), prefixing the message of the usage error it throws: how the manifest reader
 * names the file and the case (`m.json: case 2 (a.jpg): Expected ...`).
 */
export function prefixed<T>(prefix: string, fn: () => T, file?: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OccludeError) throw new OccludeError(`${prefix}${err.message}`, { kind: err.kind, file: file ?? err.file, cause: err });
    throw err;
  }
}
