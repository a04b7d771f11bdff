/**
 * Reading a TF.js model from disk so that no read escapes its folder: model.json, then its weight files
 * (inside the model folder, regular files, of the size the manifest implies, checked before any byte is read).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runtimeError, messageOf } from '../errors.js';
import { readRegularFile, regularFileSize, fileKind } from '../files.js';

/** The files of a TF.js model: model.json, then its weight files in manifest order, and their weights' bytes. */
export interface ModelSource {
  files: string[];
  weightBytes: number;
}

/** Resolve a model argument (folder or model.json) to its files; nothing is fetched from the network. */
export async function locateModel(arg: string): Promise<{ dir: string; file: string; kind: 'json' | 'saved-model' }> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg) && !arg.startsWith('file://')) {
    throw runtimeError(`${arg}: models are read from disk only; download it first`, arg);
  }
  const p = arg.startsWith('file://') ? arg.slice('file://'.length) : arg;
  let st;
  try {
    st = await fs.stat(p);
  } catch {
    throw runtimeError(`${p}: model not found`, p);
  }
  if (st.isDirectory()) {
    const json = path.join(p, 'model.json');
    if (await exists(json)) return { dir: p, file: json, kind: 'json' };
    if (await exists(path.join(p, 'saved_model.pb'))) return { dir: p, file: p, kind: 'saved-model' };
    throw runtimeError(`${p}: no model.json (TF.js) or saved_model.pb (SavedModel) in this folder`, p);
  }
  if (!st.isFile()) throw runtimeError(`${p}: not a regular file (${fileKind(st)})`, p);
  return { dir: path.dirname(p), file: p, kind: 'json' };
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Read and parse model.json (a regular file only). */
export async function readModelJson(file: string): Promise<Record<string, unknown>> {
  const text = (await readRegularFile(file)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw runtimeError(`${file}: not a readable model.json (${firstLine(messageOf(err))})`, file, err);
  }
}

/** A weight path of the manifest, resolved inside the model folder; one that leads out of it is refused unread. */
function weightPath(file: string, dir: string, p: unknown): string {
  const wf = typeof p === 'string' ? path.resolve(dir, p) : '';
  const rel = path.relative(path.resolve(dir), wf);
  if (!wf || !rel || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
    throw runtimeError(`${file}: weight path ${JSON.stringify(p)} is outside the model folder`, file);
  }
  return wf;
}

/** Bytes the manifest's weights take (null when it cannot tell: string tensors). */
function weightBytes(specs: tf.io.WeightsManifestEntry[]): number | null {
  let n = 0;
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype;
    if (dtype === 'string') return null;
    n += s.shape.reduce((a, b) => a * b, 1) * bytesPer(dtype);
  }
  return n;
}

/**
 * Each group's weight files: inside the model folder, regular files, with the size the manifest implies,
 * all checked before any byte is read.
 */
async function readWeights(file: string, manifest: tf.io.WeightsManifestConfig, source: ModelSource): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  const dir = path.dirname(file);
  const groups = manifest.map((g) => ({ files: (Array.isArray(g.paths) ? g.paths : [g.paths]).map((p) => weightPath(file, dir, p)), weights: g.weights }));
  for (const g of groups) {
    let size = 0;
    for (const wf of g.files) size += await regularFileSize(wf);
    const need = weightBytes(g.weights);
    if (need !== null && size !== need) {
      const names = g.files.map((f) => path.relative(dir, f)).join(', ');
      throw runtimeError(`${file}: weight files (${names}) are ${size} bytes, the manifest needs ${need}`, file);
    }
  }
  const buffers: Buffer[] = [];
  for (const g of groups) for (const wf of g.files) buffers.push(await readRegularFile(wf));
  const all = Buffer.concat(buffers);
  source.files.push(...groups.flatMap((g) => g.files));
  source.weightBytes += all.length;
  return [groups.flatMap((g) => g.weights), all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
}

/**
 * A tfjs IOHandler that reads model.json and its weight files from disk (nothing outside the model folder);
 * `source` receives the files read.
 */
export function fileHandler(file: string, source: ModelSource = { files: [], weightBytes: 0 }): tf.io.IOHandler {
  return {
    load: async () => {
      source.files.push(file);
      const json = (await readModelJson(file)) as unknown as tf.io.ModelJSON;
      if (!json || typeof json !== 'object' || !json.modelTopology) {
        throw runtimeError(`${file}: not a TF.js model.json (no modelTopology)`, file);
      }
      return tf.io.getModelArtifactsForJSON(json, (manifest) => readWeights(file, manifest, source));
    },
  };
}

function bytesPer(dtype: string): number {
  return dtype === 'bool' || dtype === 'uint8' || dtype === 'int8' ? 1 : dtype === 'float16' || dtype === 'uint16' || dtype === 'int16' ? 2 : 4;
}

export function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
