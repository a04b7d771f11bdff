import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { runtimeError, messageOf, OccludeError } from '../errors.js';
import { readRegularFile, regularFileSize, fileKind } from '../files.js';

export interface LoadedModel {
  kind: 'layers-model' | 'graph-model' | 'saved-model';
  /** the folder the model lives in (where occlude.json is looked for) */
  dir: string;
  /** model.json, or the SavedModel folder */
  file: string;
  input: { height: number | null; width: number | null; channels: number };
  /** number of outputs (classes) */
  outputs: number;
  /** the files a TF.js model was read from (null for a SavedModel) */
  source: ModelSource | null;
  predict(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
  /** the LayersModel itself (layers-model only): the incremental engine reads its layers */
  layers?: LayersModel;
}

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
async function readModelJson(file: string): Promise<Record<string, unknown>> {
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

export async function loadModel(arg: string): Promise<LoadedModel> {
  const loc = await locateModel(arg);
  try {
    if (loc.kind === 'saved-model') return await loadSavedModel(loc.dir);
    const head = (await readModelJson(loc.file)) as { format?: string; modelTopology?: { node?: unknown } };
    const isGraph = head.format === 'graph-model' || Array.isArray(head.modelTopology?.node);
    const source: ModelSource = { files: [], weightBytes: 0 };
    const model = isGraph ? await loadGraph(loc.file, source) : await loadLayers(loc.file, source);
    return { ...model, dir: loc.dir, file: loc.file, source };
  } catch (err) {
    if (err instanceof OccludeError) throw err;
    throw runtimeError(`${loc.file}: cannot load model (${firstLine(messageOf(err))})`, loc.file, err);
  }
}

function imageInput(file: string, shape: readonly (number | null | undefined)[] | undefined) {
  if (!shape || shape.length !== 4 || (shape[3] !== 3 && shape[3] !== 1)) {
    throw runtimeError(
      `${file}: the model's input is not an image (shape [${(shape ?? []).map((d) => d ?? 'null').join(', ')}], expected [batch, height, width, 3 or 1])`,
      file,
    );
  }
  return { height: shape[1] ?? null, width: shape[2] ?? null, channels: shape[3] as number };
}

function classOutput(file: string, shape: readonly (number | null | undefined)[] | undefined): number {
  if (!shape || shape.length !== 2 || !shape[1] || shape[1] < 2) {
    throw runtimeError(
      `${file}: the model's output is not a class vector (shape [${(shape ?? []).map((d) => d ?? 'null').join(', ')}], expected [batch, classes])`,
      file,
    );
  }
  return shape[1];
}

async function loadLayers(file: string, source: ModelSource): Promise<Omit<LoadedModel, 'dir' | 'file' | 'source'>> {
  const m: LayersModel = await loadLayersModel(fileHandler(file, source));
  if (m.inputs.length !== 1) throw runtimeError(`${file}: the model has ${m.inputs.length} inputs; one image input is needed`, file);
  const input = imageInput(file, m.inputs[0].shape);
  const outputs = classOutput(file, m.outputs[0].shape);
  return {
    kind: 'layers-model',
    input,
    outputs,
    predict: (x) => m.predict(x) as tf.Tensor2D,
    dispose: () => m.dispose(),
    layers: m,
  };
}

async function loadGraph(file: string, source: ModelSource): Promise<Omit<LoadedModel, 'dir' | 'file' | 'source'>> {
  const m: GraphModel = await loadGraphModel(fileHandler(file, source));
  if (m.inputs.length !== 1) throw runtimeError(`${file}: the model has ${m.inputs.length} inputs; one image input is needed`, file);
  const input = imageInput(file, m.inputs[0].shape);
  const shape = m.outputs[0]?.shape;
  const predict = (x: tf.Tensor4D): tf.Tensor2D => {
    const y = m.predict(x);
    const t = (Array.isArray(y) ? y[0] : y instanceof tf.Tensor ? y : Object.values(y)[0]) as tf.Tensor;
    if (t.rank !== 2) throw runtimeError(`${file}: the model's output is not a class vector (shape [${t.shape.join(', ')}])`, file);
    return t as tf.Tensor2D;
  };
  let outputs: number;
  if (shape && shape.length === 2 && shape[1] && shape[1] > 0) {
    outputs = classOutput(file, shape);
  } else if (input.height && input.width) {
    // graphs often leave output shapes unset: one dry run on a blank image tells the class count
    const y = tf.tidy(() => predict(tf.zeros([1, input.height!, input.width!, input.channels]) as tf.Tensor4D));
    outputs = classOutput(file, y.shape);
    y.dispose();
  } else {
    throw runtimeError(`${file}: neither the input size nor the output shape of this graph model is fixed`, file);
  }
  return { kind: 'graph-model', input, outputs, predict, dispose: () => m.dispose() };
}

interface SavedModelNode {
  node: {
    getMetaGraphsFromSavedModel(p: string): Promise<
      { tags: string[]; signatureDefs: Record<string, { inputs: Record<string, { shape: number[] }>; outputs: Record<string, { shape: number[] }> }> }[]
    >;
    loadSavedModel(p: string, tags?: string[], signature?: string): Promise<{ predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>; dispose(): void }>;
  };
}

/** TensorFlow SavedModel folders need tfjs-node (the TensorFlow C library executes them). */
async function loadSavedModel(dir: string): Promise<Omit<LoadedModel, 'dir' | 'file'> & { dir: string; file: string }> {
  if (tf.getBackend() !== 'tensorflow') {
    throw runtimeError(`${dir}: a TensorFlow SavedModel needs the node backend (@tensorflow/tfjs-node), which is not active; convert it with tensorflowjs_converter or install tfjs-node`, dir);
  }
  const tfnode = (await import('@tensorflow/tfjs-node' as string)) as SavedModelNode;
  const metas = await tfnode.node.getMetaGraphsFromSavedModel(dir);
  const meta = metas.find((m) => m.tags.includes('serve')) ?? metas[0];
  const sigName = meta.signatureDefs.serving_default ? 'serving_default' : Object.keys(meta.signatureDefs)[0];
  const sig = meta.signatureDefs[sigName];
  const ins = Object.values(sig.inputs);
  if (ins.length !== 1) throw runtimeError(`${dir}: the SavedModel signature has ${ins.length} inputs; one image input is needed`, dir);
  const input = imageInput(dir, ins[0].shape.map((d) => (d < 0 ? null : d)));
  const outShape = Object.values(sig.outputs)[0]?.shape.map((d) => (d < 0 ? null : d));
  const outputs = classOutput(dir, outShape);
  const m = await tfnode.node.loadSavedModel(dir, meta.tags, sigName);
  return {
    kind: 'saved-model',
    source: null,
    dir,
    file: dir,
    input,
    outputs,
    predict: (x) => {
      const y = m.predict(x);
      return (Array.isArray(y) ? y[0] : y instanceof tf.Tensor ? y : Object.values(y)[0]) as tf.Tensor2D;
    },
    dispose: () => m.dispose(),
  };
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
