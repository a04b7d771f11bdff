import { promises as fs } from 'node:fs';
import path from 'node:path';
import { invalidParameter, runtimeError, usageError } from '../errors.js';
import { readTextFile } from '../files.js';

/**
 * occlude.json, beside model.json:
 * {
 *   "labels": ["none", "red", "green"],
 *   "input": {
 *     "size": [227, 227],          // [height, width] the model takes
 *     "fit": "stretch",            // or "width": scale the frame to size's width and keep its aspect ratio
 *                                  //   (the height follows the frame; for fully convolutional models)
 *     "maxWidth": 910,             // optional, fit "width" only: a wider frame keeps its own width up to
 *                                  //   this instead of being scaled down to size's width, so that small
 *                                  //   objects keep their pixels; needs a model whose input width is free
 *     "chooseScale": "none",       // optional, with maxWidth: a frame wider than size's width is scored at
 *                                  //   both widths, and the one where this label is less probable is used
 *                                  //   (for the prediction and the map)
 *     "resize": [256, 256],        // optional: resize the frame to this first ...
 *     "crop": "center",            // ... then take the centre `size` crop
 *     "range": [0, 1],             // pixel values map from [0,1] to this range
 *     "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], // optional, after range
 *     "channels": "rgb"            // or "bgr"
 *   },
 *   "incremental": {
 *     "gates": "frame"             // optional: hold squeeze-and-excitation gates at the unoccluded frame's
 *                                  //   values, so that the incremental engine runs past them (approximate);
 *                                  //   "exact" (the default) keeps every map exact
 *   }
 * }
 */
export interface ModelMetadata {
  labels?: string[];
  input?: {
    size?: [number, number];
    fit?: 'stretch' | 'width';
    maxWidth?: number;
    chooseScale?: string;
    resize?: [number, number];
    crop?: 'center' | 'none';
    range?: [number, number];
    mean?: number[];
    std?: number[];
    channels?: 'rgb' | 'bgr';
  };
  incremental?: { gates?: 'frame' | 'exact' };
}

/** Everything needed to turn a frame into the model's input tensor. */
export interface InputSpec {
  /** the input's height; with fit "width", the height of a frame of the nominal aspect ratio (see frameSpec) */
  height: number;
  width: number;
  /** stretch: every frame is resized to height x width; width: to width, keeping the frame's aspect ratio */
  fit: 'stretch' | 'width';
  /** fit "width": a frame wider than `width` is scaled to its own width up to this (equal to `width`: every frame to `width`) */
  maxWidth: number;
  /**
   * with maxWidth: a frame wider than `width` is scored at `width` and at its own width up to maxWidth, and the
   * session uses the one where this label is less probable (null: always its own width up to maxWidth)
   */
  chooseScale: string | null;
  /** 3 for colour models, 1 for greyscale models */
  channels: number;
  /** intermediate resize [h, w], or null: resize straight to the input size (crop none) or crop the frame itself (crop center) */
  resize: [number, number] | null;
  crop: 'center' | 'none';
  range: [number, number];
  mean: number[] | null;
  std: number[] | null;
  order: 'rgb' | 'bgr';
}

export const METADATA_FILE = 'occlude.json';

export async function readMetadata(modelDir: string): Promise<ModelMetadata | null> {
  const file = path.join(modelDir, METADATA_FILE);
  try {
    await fs.lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
  }
  const text = await readTextFile(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw runtimeError(`${file}: not valid JSON (${(err as Error).message})`, file, err);
  }
  try {
    return validateMetadata(json);
  } catch (err) {
    throw runtimeError(`${file}: ${(err as Error).message}`, file, err);
  }
}

function pair(name: string, v: unknown, positive: boolean): [number, number] {
  if (
    !Array.isArray(v) ||
    v.length !== 2 ||
    !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || (Number.isInteger(x) && x > 0)))
  ) {
    throw invalidParameter(name, positive ? 'two positive integers [height, width]' : 'two numbers [lo, hi]', JSON.stringify(v));
  }
  return [v[0], v[1]];
}

function numbers(name: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw invalidParameter(name, 'an array of numbers', JSON.stringify(v));
  }
  return v as number[];
}

export function validateMetadata(json: unknown): ModelMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('expected a JSON object');
  const o = json as Record<string, unknown>;
  const meta: ModelMetadata = {};
  if (o.labels !== undefined) {
    if (!Array.isArray(o.labels) || !o.labels.every((l) => typeof l === 'string')) {
      throw invalidParameter('labels', 'an array of strings', JSON.stringify(o.labels));
    }
    meta.labels = o.labels as string[];
  }
  if (o.input !== undefined) {
    if (typeof o.input !== 'object' || o.input === null) throw invalidParameter('input', 'an object', o.input);
    const i = o.input as Record<string, unknown>;
    const input: NonNullable<ModelMetadata['input']> = {};
    if (i.size !== undefined) input.size = pair('input.size', i.size, true);
    if (i.fit !== undefined) {
      if (i.fit !== 'stretch' && i.fit !== 'width') throw invalidParameter('input.fit', '"stretch" or "width"', i.fit);
      input.fit = i.fit;
    }
    if (i.maxWidth !== undefined) {
      if (typeof i.maxWidth !== 'number' || !Number.isInteger(i.maxWidth) || i.maxWidth <= 0) {
        throw invalidParameter('input.maxWidth', 'a positive integer', i.maxWidth);
      }
      input.maxWidth = i.maxWidth;
    }
    if (i.chooseScale !== undefined) {
      if (typeof i.chooseScale !== 'string' || i.chooseScale === '') throw invalidParameter('input.chooseScale', 'a label', i.chooseScale);
      input.chooseScale = i.chooseScale;
    }
    if (i.resize !== undefined) input.resize = pair('input.resize', i.resize, true);
    if (i.crop !== undefined) {
      if (i.crop !== 'center' && i.crop !== 'none') throw invalidParameter('input.crop', '"center" or "none"', i.crop);
      input.crop = i.crop;
    }
    if (i.range !== undefined) input.range = pair('input.range', i.range, false);
    if (i.mean !== undefined) input.mean = numbers('input.mean', i.mean);
    if (i.std !== undefined) {
      input.std = numbers('input.std', i.std);
      if (input.std.some((s) => s === 0)) throw invalidParameter('input.std', 'non-zero numbers', JSON.stringify(i.std));
    }
    if (i.channels !== undefined) {
      if (i.channels !== 'rgb' && i.channels !== 'bgr') throw invalidParameter('input.channels', '"rgb" or "bgr"', i.channels);
      input.channels = i.channels;
    }
    meta.input = input;
  }
  if (o.incremental !== undefined) {
    if (typeof o.incremental !== 'object' || o.incremental === null || Array.isArray(o.incremental)) throw invalidParameter('incremental', 'an object', o.incremental);
    const g = (o.incremental as Record<string, unknown>).gates;
    if (g !== undefined && g !== 'frame' && g !== 'exact') throw invalidParameter('incremental.gates', '"frame" or "exact"', g);
    meta.incremental = g === undefined ? {} : { gates: g };
  }
  return meta;
}

/**
 * Merge the model's own input shape, occlude.json and flag overrides (in that
 * order of precedence, lowest first) into one InputSpec.
 */
export function resolveInputSpec(
  modelShape: { height: number | null; width: number | null; channels: number },
  meta: ModelMetadata | null,
  overrides: ModelMetadata['input'] = {},
): InputSpec {
  // overrides (flags, the library's options) are checked as occlude.json is
  const m = { ...(meta?.input ?? {}), ...(validateMetadata({ input: stripUndefined(overrides) }).input ?? {}) };
  const size = m.size ?? (modelShape.height && modelShape.width ? [modelShape.height, modelShape.width] : null);
  if (!size) {
    throw usageError('the model does not fix its input size: give it in occlude.json ("input.size") or with --input-size HxW');
  }
  if (modelShape.height && modelShape.width && (size[0] !== modelShape.height || size[1] !== modelShape.width)) {
    throw usageError(
      `input size ${size[0]}x${size[1]} does not match the model's input ${modelShape.height}x${modelShape.width}`,
    );
  }
  const fit = m.fit ?? 'stretch';
  const crop = m.crop ?? (m.resize ? 'center' : 'none');
  if (fit === 'width') {
    if (crop === 'center') throw usageError('input fit "width" keeps the frame whole: it cannot be combined with a centre crop');
    if (modelShape.height) throw usageError(`input fit "width" needs a model whose input height is free; this model's is fixed at ${modelShape.height}`);
    if (modelShape.width && modelShape.width !== size[1]) {
      throw usageError(`input width ${size[1]} does not match the model's input width ${modelShape.width}`);
    }
  }
  const maxWidth = m.maxWidth ?? size[1];
  if (m.maxWidth !== undefined) {
    if (fit !== 'width') throw usageError('input maxWidth needs fit "width"');
    if (maxWidth < size[1]) throw usageError(`input maxWidth ${maxWidth} is smaller than the input width ${size[1]}`);
    if (maxWidth > size[1] && modelShape.width) {
      throw usageError(`input maxWidth ${maxWidth} needs a model whose input width is free; this model's is fixed at ${modelShape.width}`);
    }
  }
  if (m.chooseScale !== undefined && maxWidth <= size[1]) {
    throw usageError(`input chooseScale needs a maxWidth wider than the input width ${size[1]}`);
  }
  const resize = m.resize ?? null;
  if (crop === 'center' && resize && (resize[0] < size[0] || resize[1] < size[1])) {
    throw usageError(`resize ${resize[0]}x${resize[1]} is smaller than the ${size[0]}x${size[1]} centre crop`);
  }
  const channels = modelShape.channels;
  for (const [name, v] of [
    ['mean', m.mean],
    ['std', m.std],
  ] as const) {
    if (v && v.length !== 1 && v.length !== channels) {
      throw usageError(`input.${name} has ${v.length} values; the model takes ${channels} channels`);
    }
  }
  return {
    height: size[0],
    width: size[1],
    fit,
    maxWidth,
    chooseScale: m.chooseScale ?? null,
    channels,
    resize: crop === 'center' ? resize : null,
    crop,
    range: m.range ?? [0, 1],
    mean: m.mean ?? null,
    std: m.std ?? null,
    order: m.channels ?? 'rgb',
  };
}

/** Frames may be at most this many times taller or flatter than the nominal input under fit "width". */
export const MAX_ASPECT_CHANGE = 4;

/**
 * The input specs a frame may be scored at: its own width up to maxWidth (frameSpec) and, when the spec has
 * chooseScale and that width is wider than the input's, the input's width too (second).
 */
export function frameSpecs(spec: InputSpec, frameWidth: number, frameHeight: number, file?: string): InputSpec[] {
  const own = frameSpec(spec, frameWidth, frameHeight, file);
  if (spec.chooseScale === null || own.width <= spec.width) return [own];
  return [own, frameSpec({ ...spec, maxWidth: spec.width }, frameWidth, frameHeight, file)];
}

/**
 * The input spec for one frame. With fit "width" the frame is scaled to the input's width and keeps
 * its aspect ratio: a 4:3 frame becomes 455x341 for a 455x256 input, a 16:9 frame 455x256. With a
 * maxWidth, a wider frame keeps its own width up to maxWidth: a 800x600 frame stays 800x600 under
 * maxWidth 910, and a 2048x1024 frame becomes 910x455.
 */
export function frameSpec(spec: InputSpec, frameWidth: number, frameHeight: number, file?: string): InputSpec {
  if (spec.fit !== 'width') return spec;
  const nominal = Math.max(1, Math.round((spec.width * frameHeight) / frameWidth));
  if (nominal > spec.height * MAX_ASPECT_CHANGE || nominal * MAX_ASPECT_CHANGE < spec.height) {
    throw usageError(
      `${file ? `${file}: ` : ''}image ${frameWidth}x${frameHeight} would be ${spec.width}x${nominal} at the model's width (fit "width"), more than ${MAX_ASPECT_CHANGE} times taller or flatter than its ${spec.width}x${spec.height}`,
      file,
    );
  }
  const width = Math.min(Math.max(frameWidth, spec.width), spec.maxWidth);
  const height = Math.max(1, Math.round((width * frameHeight) / frameWidth));
  return height === spec.height && width === spec.width ? spec : { ...spec, width, height };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
