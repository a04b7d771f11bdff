/**
 * The session: a loaded model on an active backend, with its worker threads, that classifies images and
 * computes their occlusion heat-maps. Every workflow (src/runs) and the CLI go through it.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeImage, imageName, type ImageInput, type RgbImage } from './image/decode.js';
import { resolveFill } from './image/fill.js';
import { Preprocessor } from './image/preprocess.js';
import { initBackend, type BackendInfo } from './model/backends.js';
import { loadModel, type LoadedModel, type ModelInput } from './model/load.js';
import { EMBEDDED_MODEL, EMBEDDED_MODELS, modelLabel, resolveEmbedded } from './model/embedded.js';
import { frameSpecs, readMetadata, resolveInputSpec, type InputSpec, type ModelMetadata } from './model/metadata.js';
import { resolveLabels, resolveClass, isProbabilityVector, softmaxInPlace, argmax, assertFinite } from './model/classes.js';
import { planGrid, patchRect, type Rect } from './plan/grid.js';
import { Accumulator, toDrop } from './heatmap/accumulate.js';
import { runEngine } from './infer/engine.js';
import { InProcessScorer, localScorer, type Scorer } from './infer/scorer.js';
import type { Engine, PlanOptions } from './infer/incremental/support.js';
import { chooseEngine, type EngineChoice } from './plan/engine.js';
import type { Prediction, ClassMap, Pass, OcclusionResult } from './result.js';
import { WorkerPool } from './infer/pool.js';
import { ReferenceScorer } from './infer/reference.js';
import { NO_PATCH, type FrameJob } from './infer/variants.js';
import { autoBatchSize, MAX_INCREMENTAL_BATCH } from './infer/batch.js';
import { planWorkers, checkBatchSize, fixedBytes, footprint, fitBatch, type Footprint } from './plan/budget.js';
import { usageError, OccludeError } from './errors.js';
import { DEFAULTS, BACKENDS, ENGINES, defaultWorkers, positiveInteger, oneOf, occlusionSettings, type BackendRequest, type EngineRequest, type FillSpec, type Mode } from './options.js';

export { EMBEDDED_MODEL, EMBEDDED_MODELS, modelLabel };

export interface SessionOptions {
  /**
   * a model folder or model.json, a tfjs IOHandler, or a LayersModel or GraphModel already loaded (it stays
   * the caller's: close() does not dispose it); `embedded:NAME` names a model that ships with occlude;
   * default: the embedded traffic-light model
   */
  model?: ModelInput;
  backend?: BackendRequest;
  /** inference worker threads (wasm/cpu); default: available cores. 1 scores in-process. */
  workers?: number;
  /** variants per forward pass; default: chosen from memoryBudget */
  batchSize?: number;
  /** bytes; default 1 GiB */
  memoryBudget?: number;
  /** the straightforward procedure (full-resolution paint + resize per variant), for checking the fast paths */
  exactReference?: boolean;
  /**
   * incremental: recompute only the region each patch changes, layer by layer (LayersModels);
   * full: a whole forward pass per variant; auto (default): incremental when the model allows it
   */
  engine?: EngineRequest;
  labels?: string[];
  /** overrides of occlude.json's input fields */
  input?: ModelMetadata['input'];
  maxPixels?: number;
}

export interface OccludeOptions {
  /** target class: label or index; default the predicted class */
  class?: string | number;
  /**
   * more classes to map from the same sweep (every forward pass outputs every class), or 'all';
   * the result's `maps` holds one map per class, the target's first
   */
  classes?: 'all' | (string | number)[];
  patch?: number;
  /** default: half the patch */
  stride?: number;
  fill?: FillSpec;
  /** prob: mean target probability; drop: baseline minus that mean */
  mode?: Mode;
  /** passes; after each, the lowest-probability patch is greyed out permanently */
  iterate?: number;
  onProgress?(done: number, total: number): void;
  /**
   * Each variant's raw model output, the numbers the maps are made of (before the softmax, when occlude applies one):
   * index -1 for the unoccluded frame of each pass, then every patch in grid order (`planGrid`, `patchRect`); a
   * patch that cannot change the model's input gets the frame's output. `outputs` is valid only during the call.
   * For measurement tools (training/variants.mjs keeps them all, to compute other maps offline).
   */
  onOutputs?(index: number, outputs: Float32Array, pass: number): void;
  signal?: AbortSignal;
  /** how results and messages name an image that is not a path (default `<buffer>`, `<pixels>`) */
  name?: string;
}

/**
 * A loaded model on an active backend, with its workers, ready for many images.
 * Close it when done (it owns worker threads).
 */
export class Session {
  private scorer: Scorer | null = null;
  private plannedWorkers = 1;
  /** why the worker count is lower than the default (one per core), if it is */
  workersNote: string | null = null;
  private constructor(
    readonly model: LoadedModel,
    /** how results name the model: its absolute path, `embedded:traffic-light`, or `memory:layers-model`... */
    readonly modelLabel: string,
    readonly backendInfo: BackendInfo,
    readonly labels: string[],
    private readonly meta: ModelMetadata | null,
    private readonly opts: SessionOptions,
  ) {}

  /** the engine that scores variants, and why it was chosen */
  engineInfo: EngineChoice = { name: 'full', reason: 'not chosen yet' };

  static async open(opts: SessionOptions = {}): Promise<Session> {
    const input = typeof opts.model === 'string' ? resolveEmbedded(opts.model) : opts.model ?? EMBEDDED_MODEL;
    if (typeof input === 'string' && Object.values(EMBEDDED_MODELS).includes(input) && !existsSync(path.join(input, 'model.json'))) {
      throw usageError(`the embedded model ${modelLabel(input)} is not installed (${input}); pass --model DIR`);
    }
    if (opts.workers !== undefined) positiveInteger('workers', opts.workers);
    if (opts.batchSize !== undefined) positiveInteger('batchSize', opts.batchSize);
    if (opts.memoryBudget !== undefined) positiveInteger('memoryBudget', opts.memoryBudget);
    if (opts.maxPixels !== undefined) positiveInteger('maxPixels', opts.maxPixels);
    const backend = oneOf('backend', opts.backend ?? DEFAULTS.backend, BACKENDS);
    const engine = oneOf('engine', opts.engine ?? DEFAULTS.engine, ENGINES);
    const backendInfo = await initBackend(backend);
    const model = await loadModel(input);
    try {
      const meta = model.dir === null ? null : await readMetadata(model.dir);
      const labels = resolveLabels(model.outputs, opts.labels ?? meta?.labels, opts.labels ? '--labels' : 'occlude.json');
      const session = new Session(model, typeof input === 'string' ? modelLabel(input) : model.file, backendInfo, labels, meta, opts);
      session.planMemory(); // also validates the preprocessing up front
      const choose = session.inputSpec().chooseScale;
      if (choose !== null && !labels.includes(choose)) {
        throw usageError(`input chooseScale "${choose}" is not one of the model's labels (${labels.join(', ')})`);
      }
      session.engineInfo = chooseEngine(model, engine, {
        exactReference: opts.exactReference === true,
        fits: (cacheBytes) => fitBatch(session.budget, session.workers, session.inputSpec(), session.weightBytes, footprint(session.inputSpec(), 'incremental', cacheBytes), 1) > 0,
        workers: session.workers,
        budget: session.budget,
        gates: meta?.incremental?.gates,
      });
      return session;
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** incremental, full or reference */
  get engine(): Engine | 'reference' {
    return this.engineInfo.name;
  }

  /** How the incremental engine plans this model (frame gates when its occlude.json asks for them). */
  get planOptions(): PlanOptions {
    return { frameGates: (this.engineInfo.frameGates ?? 0) > 0 };
  }

  /** What the engine holds in memory, per variant and per scoring thread (for the memory budget). */
  get footprint(): Footprint {
    return footprint(this.inputSpec(), this.engine, this.engineInfo.cacheBytes ?? 0);
  }

  get backend(): string {
    return this.backendInfo.name;
  }

  inputSpec(): InputSpec {
    return resolveInputSpec(this.model.input, this.meta, this.opts.input);
  }

  get workers(): number {
    return this.plannedWorkers;
  }

  get budget(): number {
    return this.opts.memoryBudget ?? DEFAULTS.memoryBudget;
  }

  get weightBytes(): number {
    return this.model.weightBytes;
  }

  /** The memory budget holds for the whole process: workers and an explicit batch size must fit it. */
  private planMemory(): void {
    const spec = this.inputSpec();
    const cores = this.opts.exactReference ? 1 : defaultWorkers(this.backend);
    const requested = this.opts.exactReference ? undefined : this.opts.workers;
    const plan = planWorkers({ requested, cores, budget: this.budget, spec, weightBytes: this.weightBytes });
    this.plannedWorkers = plan.workers;
    this.workersNote = plan.note;
    if (this.opts.batchSize) checkBatchSize(this.opts.batchSize, this.workers, this.budget, spec, this.weightBytes);
  }

  /**
   * Variants per forward pass: what the budget holds beside the process, the workers and the decoded image;
   * with exactReference it shrinks with the image (without one: the most it can be).
   */
  batchSize(spec: InputSpec, image?: RgbImage): number {
    if (this.opts.batchSize) return this.opts.batchSize;
    if (this.engine === 'incremental') {
      // the cache was measured at the nominal input size; a taller or wider frame (fit "width") caches more
      const nominal = this.inputSpec();
      const cacheBytes = ((this.engineInfo.cacheBytes ?? 0) * spec.height * spec.width) / (nominal.height * nominal.width);
      const fp = footprint(spec, this.engine, Math.max(cacheBytes, this.engineInfo.cacheBytes ?? 0));
      return Math.max(1, fitBatch(this.budget - (image ? image.data.length : 0), this.workers, spec, this.weightBytes, fp, MAX_INCREMENTAL_BATCH));
    }
    const left = this.budget - fixedBytes(this.workers, this.weightBytes) - (image ? image.data.length : 0);
    const extra = this.opts.exactReference && image ? image.width * image.height * 3 * 4 * 3 : 0;
    return autoBatchSize(spec, this.workers, left, extra);
  }

  /** Start the inference workers and load their models now, rather than on the first occlude(). */
  async start(): Promise<void> {
    await this.getScorer();
  }

  private async getScorer(): Promise<Scorer> {
    if (this.scorer) return this.scorer;
    const engine = this.engine;
    const options = this.planOptions;
    if (engine === 'reference') this.scorer = new ReferenceScorer(this.model, this.backendInfo.name);
    else if (this.workers <= 1) this.scorer = localScorer(this.model, this.backendInfo.name, engine, options);
    else this.scorer = await WorkerPool.start(this.workers, this.backendInfo.name, await this.model.workerSource(), engine, options);
    return this.scorer;
  }

  /** Live tensors: this thread's, and each worker's when a pool runs. */
  async numTensors(): Promise<number[]> {
    const tf = await import('@tensorflow/tfjs-core');
    const pool = this.scorer instanceof WorkerPool ? await this.scorer.numTensors() : [];
    return [tf.memory().numTensors, ...pool];
  }

  /**
   * Decode an image (a path, the bytes of an image file, or pixels) to RGB within the session's --max-pixels.
   * Pass the result to occlude() and saveOverlay() to decode an image once.
   */
  async decode(image: ImageInput, name?: string): Promise<RgbImage> {
    return decodeImage(image, { maxPixels: this.opts.maxPixels ?? DEFAULTS.maxPixels, name });
  }

  private toProbabilities(raw: Float32Array, image: string): { probs: Float32Array; softmax: boolean } {
    assertFinite(raw, this.model.file, image);
    const probs = Float32Array.from(raw);
    if (isProbabilityVector(probs)) return { probs, softmax: false };
    softmaxInPlace(probs);
    return { probs, softmax: true };
  }

  private named(probs: Float32Array): Record<string, number> {
    return Object.fromEntries(this.labels.map((l, i) => [l, probs[i]]));
  }

  /** Classify without occluding. */
  async predict(input: ImageInput, o: { name?: string } = {}): Promise<Prediction> {
    const file = imageName(input, o.name);
    const image = await this.decode(input, o.name);
    const { spec, probs } = await this.scale(image, file);
    const k = argmax(probs);
    return {
      image: file,
      class: this.labels[k],
      classIndex: k,
      probability: probs[k],
      probabilities: this.named(probs),
      ...(spec.chooseScale === null ? {} : { input: [spec.height, spec.width] as [number, number] }),
    };
  }

  /**
   * The input spec a frame is scored at, and the model's probabilities for the unoccluded frame at it (one
   * forward pass on this thread). That is frameSpec's, or, with input.chooseScale, whichever of the frame's own
   * width (up to maxWidth) and the input's width gives that label the lower probability (the input's width on a tie).
   */
  private async scale(image: RgbImage, file: string, specs = frameSpecs(this.inputSpec(), image.width, image.height, file)): Promise<{ spec: InputSpec; probs: Float32Array }> {
    const scorer = new InProcessScorer(this.model, this.backendInfo.name);
    const scored = [];
    for (const spec of specs) {
      preprocessorFor(file, image, spec); // also validates crop vs image size
      await scorer.setFrame(this.job(image, spec, { kind: 'constant', rgb: [0.5, 0.5, 0.5] }, []));
      scored.push({ spec, probs: this.toProbabilities(await scorer.score([NO_PATCH]), file).probs });
    }
    if (scored.length === 1) return scored[0];
    const k = this.labels.indexOf(specs[0].chooseScale!);
    return scored[0].probs[k] < scored[1].probs[k] ? scored[0] : scored[1];
  }

  private job(image: RgbImage, spec: InputSpec, fill: FrameJob['fill'], occluders: Rect[]): FrameJob {
    return { width: image.width, height: image.height, data: image.data, fill, occluders, spec };
  }

  /** The occlusion heat-map of one image: a path, the bytes of an image file, or decoded pixels. */
  async occlude(input: ImageInput, o: OccludeOptions = {}): Promise<OcclusionResult> {
    const t0 = performance.now();
    // every option is checked before any work
    const { patch, stride, mode, iterate: passes, fill: fillSpec, fillName } = occlusionSettings(o);
    const requested = o.class === undefined ? null : resolveClass(o.class, this.labels);
    const extra = o.classes === 'all' ? this.labels.map((_, i) => i) : (o.classes ?? []).map((c) => resolveClass(c, this.labels));

    const file = imageName(input, o.name);
    const image = await this.decode(input, o.name);
    if (patch > image.width || patch > image.height) {
      throw usageError(`${file}: patch ${patch} is larger than the image (${image.width}x${image.height})`, file);
    }
    const specs = frameSpecs(this.inputSpec(), image.width, image.height, file);
    const spec = specs.length === 1 ? specs[0] : (await this.scale(image, file, specs)).spec;
    const pre = preprocessorFor(file, image, spec); // also validates crop vs image size
    const fill = await resolveFill(fillSpec, image);
    const grid = planGrid(image.width, image.height, patch, stride);
    const scorer = await this.getScorer();
    const batchSize = this.batchSize(spec, image);
    const occluders: Rect[] = [];
    const iterations: Pass[] = [];
    let first: { probs: Float32Array; softmax: boolean } | null = null;
    let predicted = 0;
    let classes: number[] = [];
    let acc: Accumulator | null = null;
    let evaluated = 0;
    let baseline: Float32Array = new Float32Array(0);

    for (let pass = 0; pass < passes; pass++) {
      const job = this.job(image, spec, fill, [...occluders]);
      await scorer.setFrame(job);
      const unchanged = await scorer.score([NO_PATCH]);
      const base = this.toProbabilities(unchanged, file);
      o.onOutputs?.(-1, unchanged, pass);
      if (!first) {
        first = base;
        predicted = argmax(base.probs);
        // the target first, then the other classes asked for, each once
        classes = [...new Set([requested ?? predicted, ...extra])];
      }
      const softmax = first.softmax;
      const a = new Accumulator(grid, classes.length);
      const row = new Float32Array(this.model.outputs);
      const picked = new Float32Array(classes.length);
      const stats = await runEngine({
        count: grid.count,
        rectOf: (i) => patchRect(grid, i),
        visible: (rect) => this.opts.exactReference === true || pre.affected(rect) !== null,
        unchanged,
        score: (rects) => scorer.score(rects),
        outputs: this.model.outputs,
        sink: (i, raw) => {
          if (raw !== unchanged) assertFinite(raw, this.model.file, file);
          o.onOutputs?.(i, raw, pass);
          row.set(raw);
          if (softmax) softmaxInPlace(row);
          for (let k = 0; k < classes.length; k++) picked[k] = row[classes[k]];
          a.add(i, picked);
        },
        batchSize,
        inflight: scorer.workers * 2,
        onProgress: o.onProgress && ((d) => o.onProgress!(pass * grid.count + d, passes * grid.count)),
        signal: o.signal,
      });
      evaluated += stats.evaluated;
      const min = a.minimum(0);
      iterations.push({ probability: base.probs[classes[0]], minProbability: min.value, minPatch: min.rect });
      occluders.push(min.rect);
      acc = a;
      baseline = base.probs;
    }

    const probs = first!.probs;
    const maps: ClassMap[] = classes.map((c, k) => {
      const mean = acc!.mean(k);
      const min = k === 0 ? iterations[0] : { minProbability: acc!.minimum(k).value, minPatch: acc!.minimum(k).rect };
      return {
        class: this.labels[c],
        classIndex: c,
        probability: probs[c],
        minProbability: min.minProbability,
        minPatch: min.minPatch,
        map: mode === 'drop' ? toDrop(mean, baseline[c]) : mean,
      };
    });
    const target = maps[0];
    return {
      image: file,
      width: image.width,
      height: image.height,
      model: this.modelLabel,
      backend: this.backend,
      engine: this.engine,
      ...(this.planOptions.frameGates ? { gates: 'frame' as const } : {}),
      ...(spec.chooseScale === null ? {} : { input: [spec.height, spec.width] as [number, number] }),
      labels: this.labels,
      predicted: { class: this.labels[predicted], classIndex: predicted, probability: probs[predicted] },
      class: target.class,
      classIndex: target.classIndex,
      probability: target.probability,
      probabilities: this.named(probs),
      softmaxApplied: first!.softmax,
      patch,
      stride,
      fill: fillName,
      mode,
      variants: grid.count * passes,
      evaluated,
      minProbability: target.minProbability,
      minPatch: target.minPatch,
      iterations: passes > 1 ? iterations : undefined,
      map: target.map,
      maps,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  async close(): Promise<void> {
    await this.scorer?.close();
    this.scorer = null;
    this.model.dispose();
  }
}

/** The image's preprocessor; an image that does not fit the model's input (smaller than its crop) is that image's error. */
function preprocessorFor(file: string, image: RgbImage, spec: InputSpec): Preprocessor {
  try {
    return new Preprocessor(image.width, image.height, spec);
  } catch (err) {
    if (err instanceof OccludeError && !err.file) throw new OccludeError(`${file}: ${err.message}`, { kind: err.kind, file, cause: err });
    throw err;
  }
}

/** One-shot helper: open a session, occlude one image, close. */
export async function occludeImage(image: ImageInput, opts: SessionOptions & OccludeOptions = {}): Promise<OcclusionResult> {
  const session = await Session.open(opts);
  try {
    return await session.occlude(image, opts);
  } finally {
    await session.close();
  }
}

