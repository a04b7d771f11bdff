/**
 * A model, from wherever it comes: a folder or model.json on disk, a tfjs IOHandler, or a LayersModel
 * or GraphModel the caller has loaded already (with the same tfjs: occlude's tfjs packages are peer
 * dependencies). Each becomes a LoadedModel: its input and class count checked, and what a worker
 * thread loads its own copy from.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, LayersModel } from '@tensorflow/tfjs-layers';
import { loadGraphModel, GraphModel } from '@tensorflow/tfjs-converter';
import { runtimeError, messageOf, OccludeError } from '../errors.js';
import { locateModel, readModelJson, fileHandler, firstLine, type ModelSource } from './read.js';

export type { ModelSource };

/** What a model can be: a folder or model.json, a tfjs IOHandler, or a loaded LayersModel or GraphModel. */
export type ModelInput = string | tf.io.IOHandler | LayersModel | GraphModel;

/** What a worker thread loads its copy of the model from: the file, or the model's artifacts (posted to it). */
export type ModelRef = { kind: 'file'; file: string } | { kind: 'artifacts'; artifacts: tf.io.ModelArtifacts; name: string };

export interface LoadedModel {
  kind: 'layers-model' | 'graph-model' | 'saved-model';
  /** the folder the model lives in (where occlude.json is looked for); null for a model not read from disk */
  dir: string | null;
  /** model.json, or the SavedModel folder; for a model not read from disk, how messages name it (`memory:layers-model`) */
  file: string;
  input: { height: number | null; width: number | null; channels: number };
  /** number of outputs (classes) */
  outputs: number;
  /** the files a TF.js model was read from (null for a SavedModel and a model not read from disk) */
  source: ModelSource | null;
  /** bytes of the model's weights (for the memory budget) */
  weightBytes: number;
  predict(x: tf.Tensor4D): tf.Tensor2D;
  /** release the model (a model the caller passed in stays theirs: not released) */
  dispose(): void;
  /** the LayersModel itself (layers-model only): the incremental engine reads its layers */
  layers?: LayersModel;
  /** what a worker thread loads its copy of the model from */
  workerSource(): Promise<ModelRef>;
  /** a SHA-256 of the model's topology and weights (null for a SavedModel) */
  digest(): Promise<string | null>;
}

type Checked = Pick<LoadedModel, 'kind' | 'input' | 'outputs' | 'predict' | 'layers' | 'dispose'>;

function isLayersModel(m: unknown): m is LayersModel {
  return m instanceof LayersModel || (typeof m === 'object' && m !== null && Array.isArray((m as LayersModel).layers) && typeof (m as LayersModel).predict === 'function');
}

function isGraphModel(m: unknown): m is GraphModel {
  return m instanceof GraphModel || (typeof m === 'object' && m !== null && typeof (m as GraphModel).executeAsync === 'function' && typeof (m as GraphModel).predict === 'function');
}

/** Load a model from any ModelInput. */
export async function loadModel(input: ModelInput | ModelRef): Promise<LoadedModel> {
  if (typeof input === 'string') return loadFile(input);
  if ('kind' in input && input.kind === 'file') return loadFile(input.file);
  if ('kind' in input && input.kind === 'artifacts') return loadArtifacts(input.artifacts, input.name);
  if (isLayersModel(input)) return given(checkLayers('memory:layers-model', input), 'memory:layers-model', input);
  if (isGraphModel(input)) return given(checkGraph('memory:graph-model', input), 'memory:graph-model', input);
  if (typeof (input as tf.io.IOHandler).load === 'function') {
    let artifacts: tf.io.ModelArtifacts;
    try {
      artifacts = await (input as tf.io.IOHandler).load!();
    } catch (err) {
      if (err instanceof OccludeError) throw err;
      throw runtimeError(`io-handler: cannot load model (${firstLine(messageOf(err))})`, undefined, err);
    }
    return loadArtifacts(artifacts, isGraphArtifacts(artifacts) ? 'io-handler:graph-model' : 'io-handler:layers-model');
  }
  throw runtimeError('a model is a folder or model.json, a tfjs IOHandler, a LayersModel or a GraphModel');
}

async function loadFile(arg: string): Promise<LoadedModel> {
  const loc = await locateModel(arg);
  try {
    if (loc.kind === 'saved-model') return await loadSavedModel(loc.dir);
    const head = (await readModelJson(loc.file)) as { format?: string; modelTopology?: { node?: unknown } };
    const isGraph = head.format === 'graph-model' || Array.isArray(head.modelTopology?.node);
    const source: ModelSource = { files: [], weightBytes: 0 };
    const model = isGraph ? checkGraph(loc.file, await loadGraphModel(fileHandler(loc.file, source))) : checkLayers(loc.file, await loadLayersModel(fileHandler(loc.file, source)));
    return {
      ...model,
      dir: loc.dir,
      file: loc.file,
      source,
      weightBytes: source.weightBytes,
      workerSource: async () => ({ kind: 'file', file: loc.file }),
      digest: async () => digestFiles(source.files),
    };
  } catch (err) {
    if (err instanceof OccludeError) throw err;
    throw runtimeError(`${loc.file}: cannot load model (${firstLine(messageOf(err))})`, loc.file, err);
  }
}

function isGraphArtifacts(a: tf.io.ModelArtifacts): boolean {
  return a.format === 'graph-model' || Array.isArray((a.modelTopology as { node?: unknown } | undefined)?.node);
}

/** A model from its artifacts (what an IOHandler loads, or what a worker is posted). */
async function loadArtifacts(artifacts: tf.io.ModelArtifacts, name: string): Promise<LoadedModel> {
  try {
    const handler = tf.io.fromMemory(artifacts);
    const model = isGraphArtifacts(artifacts) ? checkGraph(name, await loadGraphModel(handler)) : checkLayers(name, await loadLayersModel(handler));
    return {
      ...model,
      dir: null,
      file: name,
      source: null,
      weightBytes: weightDataBytes(artifacts),
      workerSource: async () => ({ kind: 'artifacts', artifacts, name }),
      digest: async () => digestArtifacts(artifacts),
    };
  } catch (err) {
    if (err instanceof OccludeError) throw err;
    throw runtimeError(`${name}: cannot load model (${firstLine(messageOf(err))})`, undefined, err);
  }
}

/** A model the caller loaded: used as it is, never released here; workers get a copy of its artifacts. */
function given(model: Checked, name: string, m: LayersModel | GraphModel): LoadedModel {
  let artifacts: Promise<tf.io.ModelArtifacts> | null = null;
  const saved = () => (artifacts ??= artifactsOf(m));
  return {
    ...model,
    dir: null,
    file: name,
    source: null,
    weightBytes: isGraphModel(m) ? tensorBytes(Object.values(m.weights).flat()) : tensorBytes(m.weights.map((w) => w.read())),
    dispose: () => undefined,
    workerSource: async () => ({ kind: 'artifacts', artifacts: await saved(), name }),
    digest: async () => digestArtifacts(await saved()),
  };
}

/** The artifacts of a loaded model (its topology and weights), as model.save() gives them. */
async function artifactsOf(m: LayersModel | GraphModel): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      out = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  // plain data only: what a worker is posted
  const a = out! as tf.io.ModelArtifacts;
  return { modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, weightSpecs: a.weightSpecs, weightData: a.weightData, signature: a.signature, userDefinedMetadata: a.userDefinedMetadata, modelInitializer: a.modelInitializer, trainingConfig: a.trainingConfig };
}

function weightDataBytes(a: tf.io.ModelArtifacts): number {
  const d = a.weightData;
  if (!d) return 0;
  return Array.isArray(d) ? d.reduce((n, b) => n + b.byteLength, 0) : d.byteLength;
}

function tensorBytes(ts: tf.Tensor[]): number {
  return ts.reduce((n, t) => n + t.size * (t.dtype === 'bool' ? 1 : 4), 0);
}

async function digestFiles(files: string[]): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { readRegularFile } = await import('../files.js');
  const hash = createHash('sha256');
  for (const f of files) hash.update(await readRegularFile(f));
  return hash.digest('hex');
}

async function digestArtifacts(a: tf.io.ModelArtifacts): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ topology: a.modelTopology ?? null, weights: a.weightSpecs ?? null }));
  const d = a.weightData;
  for (const b of d ? (Array.isArray(d) ? d : [d]) : []) hash.update(new Uint8Array(b));
  return hash.digest('hex');
}

function imageInput(file: string, shape: readonly (number | null | undefined)[] | undefined) {
  if (!shape || shape.length !== 4 || (shape[3] !== 3 && shape[3] !== 1)) {
    throw runtimeError(
      `${file}: the model's input is not an image (shape [${(shape ?? []).map((d) => d ?? 'null').join(', ')}], expected [batch, height, width, 3 or 1])`,
      file,
    );
  }
  // graph signatures write a free dimension as -1, layers models as null
  const dim = (d: number | null | undefined): number | null => (d !== null && d !== undefined && d > 0 ? d : null);
  return { height: dim(shape[1]), width: dim(shape[2]), channels: shape[3] as number };
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

function checkLayers(file: string, m: LayersModel): Checked {
  if (m.inputs.length !== 1) throw runtimeError(`${file}: the model has ${m.inputs.length} inputs; one image input is needed`, file);
  const input = imageInput(file, m.inputs[0].shape);
  const outputs = classOutput(file, m.outputs[0].shape);
  return { kind: 'layers-model', input, outputs, predict: (x) => m.predict(x) as tf.Tensor2D, layers: m, dispose: () => m.dispose() };
}

function checkGraph(file: string, m: GraphModel): Checked {
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
  } else if (input.width) {
    // graphs often leave output shapes unset: one dry run on a blank image tells the class count
    // (a free height, as fit "width" models have: a 16:9 frame of the model's width)
    const height = input.height ?? Math.round((input.width * 9) / 16);
    const y = tf.tidy(() => predict(tf.zeros([1, height, input.width!, input.channels]) as tf.Tensor4D));
    outputs = classOutput(file, y.shape);
    y.dispose();
  } else {
    throw runtimeError(`${file}: neither the input width nor the output shape of this graph model is fixed`, file);
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
async function loadSavedModel(dir: string): Promise<LoadedModel> {
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
    weightBytes: 0,
    dir,
    file: dir,
    workerSource: async () => ({ kind: 'file', file: dir }),
    digest: async () => null,
    input,
    outputs,
    predict: (x) => {
      const y = m.predict(x);
      return (Array.isArray(y) ? y[0] : y instanceof tf.Tensor ? y : Object.values(y)[0]) as tf.Tensor2D;
    },
    dispose: () => m.dispose(),
  };
}
