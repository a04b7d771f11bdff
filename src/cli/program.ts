import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Command, CommanderError, Option, InvalidArgumentError } from 'commander';
import { Session, DEFAULTS, modelLabel, type SessionOptions, type OccludeOptions } from '../occlude.js';
import { OccludeError, usageError, runtimeError, messageOf, shownPath, fsReason, isFatalWriteError } from '../errors.js';
import { BACKEND_CHOICES, type BackendRequest } from '../model/backends.js';
import { parseBytes } from '../infer/batch.js';
import { DEFAULT_MAX_PIXELS } from '../image/decode.js';
import { COLORMAPS, type ColormapName } from '../render/colormap.js';
import { saveOverlay, parseRange, RENDER_DEFAULTS } from '../render/save.js';
import { saveMap, checkMapPath } from '../heatmap/save.js';
import { resultJson, resultText, predictionJson } from '../report/json.js';
import { summaryRow, errorRow, writeSummary, readSummary, type SummaryRow } from '../report/summary.js';
import { entriesFromSummary, writeReport, relativeHref, type PageEntry } from '../report/page.js';
import { readManifest, evaluateCase, errorOutcome, outcomeLine, type CaseOutcome, type CheckManifest } from '../report/check.js';
import { junitXml, type JunitSuite } from '../report/junit.js';
import { readLabels, LabelIndex, confusion, confusionText, pairName, pairFolder, pairDescription, saveSideBySide } from '../report/review.js';
import { writeFileAtomic, makeFolder } from '../image/encode.js';
import { mapRange } from '../heatmap/accumulate.js';
import { EMBEDDED_MODEL, type OcclusionResult } from '../occlude.js';
import { expandInputs, type InputFile } from './inputs.js';
import { strideWithinPatch, defaultStride } from '../plan/grid.js';
import { Progress } from './progress.js';

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  env?: Record<string, string | undefined>;
  /** aborted on Ctrl-C: the run stops after the current batch */
  signal?: AbortSignal;
}

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../../package.json') as { version: string }).version;

function int(name: string) {
  return (v: string): number => {
    if (!/^\s*-?\d+\s*$/.test(v) || Number(v) <= 0) throw new InvalidArgumentError(`Expected positive integer for ${name} but received ${JSON.stringify(v)}`);
    return Number(v);
  };
}
function num(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) throw new InvalidArgumentError(`Expected number between ${lo} and ${hi} for ${name} but received ${JSON.stringify(v)}`);
    return n;
  };
}
function hw(name: string) {
  return (v: string): [number, number] => {
    const m = /^(\d+)[x,](\d+)$/i.exec(v.trim());
    if (!m || +m[1] <= 0 || +m[2] <= 0) throw new InvalidArgumentError(`Expected HEIGHTxWIDTH for ${name} but received ${JSON.stringify(v)}`);
    return [+m[1], +m[2]];
  };
}
function nums(name: string, count?: number) {
  return (v: string): number[] => {
    const a = v.split(',').map((s) => Number(s.trim()));
    if (a.some((x) => !Number.isFinite(x)) || (count && a.length !== count)) throw new InvalidArgumentError(`Expected ${count ?? 'comma-separated'} numbers for ${name} but received ${JSON.stringify(v)}`);
    return a;
  };
}

interface ModelFlags {
  model?: string;
  backend: BackendRequest;
  workers?: number;
  batchSize?: number;
  memoryBudget?: string;
  maxPixels: number;
  labels?: string;
  inputSize?: [number, number];
  resize?: [number, number];
  crop?: 'center' | 'none';
  inputRange?: number[];
  mean?: number[];
  std?: number[];
  channels?: 'rgb' | 'bgr';
  exactReference?: boolean;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  debug?: boolean;
  color: boolean;
}

interface OccludeFlags extends ModelFlags {
  class?: string;
  patch: number;
  stride?: number;
  fill: string;
  mode: 'prob' | 'drop';
  iterate: number;
  output?: string;
  out?: string;
  colormap: ColormapName;
  alpha: number;
  range: string;
  legend: boolean;
  saveMap?: string;
  recursive?: boolean;
  resume?: boolean;
  report?: string;
}

interface ReviewFlags extends ModelFlags {
  /** here: labels.csv (image,class); the model's class names come from --class-names */
  labels?: string;
  classNames?: string;
  out: string;
  report?: string;
  patch: number;
  stride?: number;
  fill: string;
  colormap: ColormapName;
  alpha: number;
  legend: boolean;
  recursive?: boolean;
}

interface CheckFlags extends ModelFlags {
  junit?: string;
}

function addModelOptions(cmd: Command, o: { labels?: boolean; json?: string } = {}): Command {
  cmd
    .option('-m, --model <path>', 'model folder or model.json (TF.js LayersModel or GraphModel; SavedModel with tfjs-node); default: the embedded traffic-light model')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_CHOICES as string[]).default('auto'))
    .option('--workers <n>', 'inference worker threads (wasm/cpu); default: the number of cores', int('workers'))
    .option('--batch-size <n>', 'variants per forward pass; default: chosen from --memory-budget', int('batch-size'))
    .option('--memory-budget <bytes>', 'memory for batches, e.g. 512MB, 2GB (default 1GB)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this', int('max-pixels'), DEFAULT_MAX_PIXELS);
  if (o.labels !== false) cmd.option('--labels <a,b,c>', 'class labels (overrides occlude.json)');
  else cmd.option('--class-names <a,b,c>', 'the model\'s class labels (overrides occlude.json)');
  return cmd
    .option('--input-size <HxW>', 'model input size (overrides occlude.json)', hw('input-size'))
    .option('--resize <HxW>', 'resize the frame to this before a centre crop (overrides occlude.json)', hw('resize'))
    .addOption(new Option('--crop <mode>', 'centre crop after resize (overrides occlude.json)').choices(['center', 'none']))
    .option('--input-range <lo,hi>', 'pixel value range the model expects, e.g. 0,255 or -1,1', nums('input-range', 2))
    .option('--mean <r,g,b>', 'per-channel mean subtracted after the range', nums('mean'))
    .option('--std <r,g,b>', 'per-channel std divided after the mean', nums('std'))
    .addOption(new Option('--channels <order>', 'channel order').choices(['rgb', 'bgr']))
    .option('--exact-reference', 'use the straightforward procedure (paint + full resize per variant); slow, for checking')
    .option('--json', o.json ?? 'one JSON object per image on stdout')
    .option('-v, --verbose', 'say which backend, workers and batch size are used')
    .option('-q, --quiet', 'no progress display')
    .option('--no-color', 'no colour in messages (also NO_COLOR=1)')
    .option('--debug', 'show stack traces of errors');
}

function sessionOptions(f: ModelFlags): SessionOptions {
  let memoryBudget: number | undefined;
  if (f.memoryBudget !== undefined) {
    const b = parseBytes(f.memoryBudget);
    if (b === null) throw usageError(`Expected size in bytes (e.g. 1GB, 512MB) for memory-budget but received ${JSON.stringify(f.memoryBudget)}`);
    memoryBudget = b;
  }
  return {
    model: f.model,
    backend: f.backend,
    workers: f.workers,
    batchSize: f.batchSize,
    memoryBudget,
    maxPixels: f.maxPixels,
    exactReference: f.exactReference,
    labels: f.labels ? f.labels.split(',').map((s) => s.trim()) : undefined,
    input: {
      size: f.inputSize,
      resize: f.resize,
      crop: f.crop,
      range: f.inputRange as [number, number] | undefined,
      mean: f.mean,
      std: f.std,
      channels: f.channels,
    },
  };
}

export type Runner = { code: number };

class Reporter {
  code = 0;
  constructor(
    private readonly io: Io,
    private readonly flags: ModelFlags,
  ) {}
  private get colour(): boolean {
    return this.flags.color !== false && !this.io.env?.NO_COLOR && this.io.stderr.isTTY === true;
  }
  /**
   * Report an error on stderr (and as a JSON line with --json). `oneOfSeveral`: the error belongs to one
   * image of several, which the run goes on without: exit code 1 even for an image the flags do not suit.
   */
  error(err: unknown, image?: string, oneOfSeveral = false): void {
    const e = err instanceof OccludeError ? err : runtimeError(messageOf(err), undefined, err);
    this.code = Math.max(this.code, oneOfSeveral ? 1 : e.exitCode);
    const prefix = this.colour ? '\x1b[31mocclude:\x1b[0m' : 'occlude:';
    const msg = image ? withName(e.message, image) : e.message;
    this.io.stderr.write(`${prefix} ${msg.split('\n')[0]}\n`);
    if (this.flags.debug && err instanceof Error && err.stack) this.io.stderr.write(err.stack + '\n');
    if (this.flags.json && image) this.io.stdout.write(JSON.stringify({ image, error: msg.split('\n')[0] }) + '\n');
  }
  info(s: string): void {
    if (this.flags.verbose) this.io.stderr.write(s + '\n');
  }
}

/** `file: message`, unless the message names the file already; the name quoted when it holds control characters. */
function withName(message: string, file: string): string {
  return message.includes(shownPath(file)) ? message : `${shownPath(file)}: ${message}`;
}

async function openSession(f: ModelFlags, rep: Reporter): Promise<Session> {
  const session = await Session.open(sessionOptions(f));
  rep.info(`model: ${modelLabel(session.modelPath)} (${session.model.kind}, input ${session.inputSpec().height}x${session.inputSpec().width}, labels ${session.labels.join(', ')})`);
  const batch = `batch size: ${session.batchSize(session.inputSpec())} variants per forward pass${f.batchSize ? '' : ` (from the memory budget${f.exactReference ? '; smaller for large images with --exact-reference' : ''})`}`;
  rep.info(`backend: ${session.backend}${session.backendInfo.notes.length ? ` (${session.backendInfo.notes.join('; ')})` : ''}; workers: ${session.workers}${session.workersNote ? ` (${session.workersNote})` : ''}; ${batch}`);
  return session;
}

async function checkWritable(file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  try {
    const st = await fs.stat(file).catch(() => null);
    if (st?.isDirectory()) throw runtimeError(`cannot write ${file}: it is a folder`, file);
    await fs.access(dir, fsc.W_OK);
  } catch (err) {
    if (err instanceof OccludeError) throw err;
    throw runtimeError(`cannot write ${file}: ${fsReason(err)}`, file, err);
  }
}

/** --stride, or half the patch; a stride over the patch is a usage error. */
function strideOf(f: { patch: number; stride?: number }): number {
  return strideWithinPatch(f.patch, f.stride ?? defaultStride(f.patch));
}

function outputPathFor(input: InputFile, f: OccludeFlags): string {
  if (f.output) return f.output;
  const rel = input.relative.replace(/\.[^./\\]+$/, '');
  if (f.out) return path.join(f.out, `${rel}.occlusion.png`);
  return input.file.replace(/\.[^./\\]+$/, '') + '.occlusion.png';
}

async function runOcclude(args: string[], f: OccludeFlags, io: Io, rep: Reporter): Promise<void> {
  // validate everything that does not need the model before loading it
  const range = parseRange(f.range);
  const stride = strideOf(f);
  if (f.saveMap) checkMapPath(f.saveMap);
  if (f.resume && !f.out) throw usageError('--resume needs --out DIR (it reads DIR/summary.jsonl)');
  const inputs = await expandInputs(args, f.recursive ?? false);
  if (!inputs.files.length) throw usageError('no image to process');
  if (inputs.skipped) io.stderr.write(`occlude: skipped ${inputs.skipped} file(s) that are not images\n`);
  if (inputs.files.length > 1 && (f.output || f.saveMap)) {
    throw usageError('-o/--output and --save-map name one file: with several images use --out DIR');
  }
  if (f.out) await makeFolder(f.out);
  if (f.report) await checkWritable(f.report);
  const opts: OccludeOptions = {
    class: f.class,
    patch: f.patch,
    stride,
    fill: f.fill,
    mode: f.mode,
    iterate: f.iterate,
    signal: io.signal,
  };
  // the summary: one row per image, in input order; rewritten (atomically) as each image finishes
  const rows = new Map<string, SummaryRow>();
  const rowKey = (input: InputFile) => path.resolve(input.file);
  const previous = new Map<string, SummaryRow>();
  if (f.resume && f.out) for (const r of await readSummary(f.out)) if (r.output) previous.set(r.output, r);
  const ordered = () => inputs.files.map((i) => rows.get(rowKey(i))).filter((r): r is SummaryRow => !!r);
  const saveSummary = async () => {
    if (f.out) await writeSummary(f.out, ordered());
  };
  const outName = (output: string) => (f.out ? path.relative(f.out, output).split(path.sep).join('/') : output);

  // --resume: an image is done when its summary row has no error and its overlay exists
  // (overlays are written atomically, so one that exists is complete)
  const todo: InputFile[] = [];
  for (const input of inputs.files) {
    const prev = f.resume ? previous.get(outName(outputPathFor(input, f))) : undefined;
    if (prev && !prev.error && (await fs.stat(outputPathFor(input, f)).then((s) => s.isFile(), () => false))) {
      rows.set(rowKey(input), { ...prev, image: input.file });
    } else todo.push(input);
  }
  if (f.resume) io.stderr.write(`occlude: resuming: ${inputs.files.length - todo.length} of ${inputs.files.length} image(s) already done\n`);

  let session: Session | null = null;
  const progress = Progress.for(io.stderr, f.quiet === true);
  let variantsSoFar = 0;
  let done = inputs.files.length - todo.length;
  let stopped: string | null = null;
  try {
    if (todo.length) session = await openSession(f, rep);
    progress.reset(); // the rate counts inference, not model loading
    for (const input of todo) {
      const output = outputPathFor(input, f);
      try {
        if (io.signal?.aborted) break;
        if (f.out) await makeFolder(path.dirname(output));
        await checkWritable(output);
        if (f.saveMap) await checkWritable(f.saveMap);
        const result = await session!.occlude(input.file, {
          ...opts,
          onProgress: (d, total) => progress.update(path.basename(input.file), done, inputs.files.length, d, total, variantsSoFar + d),
        });
        variantsSoFar += result.variants;
        progress.clear();
        await saveOverlay(output, result, { colormap: f.colormap, alpha: f.alpha, range, legend: f.legend });
        if (f.saveMap) await saveMap(f.saveMap, result.map, result.width, result.height);
        rows.set(rowKey(input), summaryRow(result, outName(output)));
        await saveSummary();
        rep.info(`${input.file}: ${result.evaluated} of ${result.variants} variants through the model (the rest are outside what it sees), ${result.seconds.toFixed(2)} s, backend ${result.backend}`);
        const paths = { output, map: f.saveMap ?? null };
        if (f.json) io.stdout.write(JSON.stringify(resultJson(result, paths, modelLabel(session!.modelPath))) + '\n');
        else io.stdout.write(resultText(result, paths).join('\n') + '\n');
      } catch (err) {
        progress.clear();
        if (io.signal?.aborted) break;
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err; // a bad flag fails every image
        rep.error(err, input.file, inputs.files.length > 1);
        if (isFatalWriteError(err)) {
          // a full disk or a read-only mount fails every later image too: stop now
          stopped = fsReason((err as Error).cause ?? err);
          break;
        }
        rows.set(rowKey(input), errorRow(input.file, withName(messageOf(err), input.file).split('\n')[0]));
        await saveSummary().catch((e) => rep.error(e));
      } finally {
        done++;
      }
    }
  } finally {
    progress.clear();
    await session?.close();
    // what was done is kept: the summary and the page list every finished image
    if (f.report) {
      const list = ordered();
      await writeReport(f.report, entriesFromSummary(list, f.report, f.out ?? ''), {
        title: 'occlude report',
        subtitle: `${list.length} image(s), ${list.filter((r) => r.error).length} error(s)${f.class ? `, target ${f.class}` : ''}, patch ${f.patch}, stride ${stride}`,
        labels: session?.labels,
      }).catch((e) => rep.error(e));
    }
  }
  if (stopped && done < inputs.files.length) {
    io.stderr.write(`occlude: stopped: ${ordered().filter((r) => !r.error).length} of ${inputs.files.length} image(s) done (${stopped})\n`);
  }
  if (io.signal?.aborted) {
    const finished = ordered().length;
    io.stderr.write(`occlude: interrupted: ${finished} of ${inputs.files.length} image(s) done${f.out ? `, listed in ${path.join(f.out, 'summary.csv')}` : ''}\n`);
    rep.code = Math.max(rep.code, 130);
  }
}

async function runPredict(args: string[], f: ModelFlags, io: Io, rep: Reporter): Promise<void> {
  const inputs = await expandInputs(args, false);
  const session = await openSession(f, rep);
  try {
    for (const input of inputs.files) {
      try {
        const p = await session.predict(input.file);
        if (f.json) io.stdout.write(JSON.stringify(predictionJson(p, modelLabel(session.modelPath), session.backend)) + '\n');
        else {
          const all = Object.entries(p.probabilities).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(', ');
          io.stdout.write(`${shownPath(p.image)}: ${p.class} (${(p.probability * 100).toFixed(2)}%)  [${all}]  backend ${session.backend}\n`);
        }
      } catch (err) {
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err;
        rep.error(err, input.file, inputs.files.length > 1);
      }
    }
  } finally {
    await session.close();
  }
}

interface ReviewedFrame {
  image: string;
  truth: string;
  predicted: string;
  probability: number;
  probabilities: Record<string, number>;
}

interface MapSummary {
  class: string;
  probability: number;
  minProbability: number;
  minPatch: OcclusionResult['minPatch'];
  maxProbability: number;
}

interface ReviewedMistake extends ReviewedFrame {
  pair: string;
  output: string | null;
  /** the heat-maps' summaries; maxProbability: the highest value of the per-pixel map */
  predictedMap: MapSummary | null;
  trueMap: MapSummary | null;
  error?: string;
}

async function runReview(args: string[], f: ReviewFlags, io: Io, rep: Reporter): Promise<void> {
  const labelsFile = f.labels!;
  const stride = strideOf(f);
  const labelRows = await readLabels(labelsFile);
  const index = new LabelIndex(labelRows);
  const inputs = await expandInputs(args, f.recursive ?? false);
  if (!inputs.files.length) throw usageError('no image to review');
  if (inputs.skipped) io.stderr.write(`occlude: skipped ${inputs.skipped} file(s) that are not images\n`);
  await makeFolder(f.out);
  const report = f.report ?? path.join(f.out, 'index.html');
  await checkWritable(report);
  const session = await openSession({ ...f, labels: f.classNames }, rep);
  const progress = Progress.for(io.stderr, f.quiet === true);
  const frames: (ReviewedFrame & { input: InputFile })[] = [];
  const mistakes: ReviewedMistake[] = [];
  const unlabelled: string[] = [];
  const failed: { image: string; error: string }[] = [];
  const fail = (err: unknown, image: string) => {
    rep.error(err, image, inputs.files.length > 1);
    failed.push({ image, error: messageOf(err).split('\n')[0] });
  };
  try {
    const unknown = [...new Set(labelRows.map((r) => r.class))].filter((c) => !session.labels.includes(c));
    if (unknown.length) throw usageError(`${labelsFile}: unknown class ${unknown.map((c) => JSON.stringify(c)).join(', ')}; the model's classes are ${session.labels.join(', ')}`, labelsFile);
    // 1. classify every labelled frame
    for (let n = 0; n < inputs.files.length; n++) {
      const input = inputs.files[n];
      if (io.signal?.aborted) break;
      const truth = index.get(input.file, input.relative);
      if (!truth) {
        unlabelled.push(input.file);
        continue;
      }
      progress.update(`classifying ${path.basename(input.file)}`, n, inputs.files.length, 0, 1, 0);
      try {
        const p = await session.predict(input.file);
        frames.push({ input, image: input.file, truth, predicted: p.class, probability: p.probability, probabilities: p.probabilities });
      } catch (err) {
        progress.clear();
        fail(err, input.file);
      }
    }
    progress.clear();
    if (unlabelled.length) io.stderr.write(`occlude: ${unlabelled.length} frame(s) not in ${labelsFile}, left out: ${unlabelled.slice(0, 3).join(', ')}${unlabelled.length > 3 ? ', ...' : ''}\n`);
    // 2. each mistake: the predicted class's map beside the true class's, grouped by confusion pair
    const order = (c: string) => session.labels.indexOf(c);
    const wrong = frames
      .filter((fr) => fr.truth !== fr.predicted)
      .sort((a, b) => order(a.truth) - order(b.truth) || order(a.predicted) - order(b.predicted) || a.image.localeCompare(b.image));
    let variantsSoFar = 0;
    for (let n = 0; n < wrong.length; n++) {
      const fr = wrong[n];
      const { input, ...frame } = fr;
      const m: ReviewedMistake = { ...frame, pair: pairName(fr.truth, fr.predicted), output: null, predictedMap: null, trueMap: null };
      if (io.signal?.aborted) break;
      try {
        const opts = { patch: f.patch, stride, fill: f.fill, signal: io.signal };
        const maps: OcclusionResult[] = [];
        for (const [k, cls] of [fr.predicted, fr.truth].entries()) {
          const r = await session.occlude(input.file, {
            ...opts,
            class: cls,
            onProgress: (d, t) => progress.update(`${path.basename(input.file)} (${cls})`, n, wrong.length, d + k * t, 2 * t, variantsSoFar + d),
          });
          variantsSoFar += r.variants;
          maps.push(r);
        }
        progress.clear();
        const output = path.join(f.out, pairFolder(fr.truth, fr.predicted), input.relative.replace(/\.[^./\\]+$/, '') + '.review.png');
        await makeFolder(path.dirname(output));
        await saveSideBySide(output, maps[0], maps[1], { colormap: f.colormap, alpha: f.alpha, legend: f.legend });
        const info = (r: OcclusionResult) => ({ class: r.class, probability: r.probability, minProbability: r.minProbability, minPatch: r.minPatch, maxProbability: mapRange(r.map).max });
        m.output = output;
        m.predictedMap = info(maps[0]);
        m.trueMap = info(maps[1]);
      } catch (err) {
        progress.clear();
        if (io.signal?.aborted) break;
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err;
        fail(err, input.file);
        m.error = messageOf(err).split('\n')[0];
      }
      mistakes.push(m);
    }
  } finally {
    progress.clear();
    await session.close();
  }

  // 3. the confusion matrix, confusion.json and the page
  const conf = confusion(session.labels, frames);
  const pairs = [...new Map(mistakes.map((m) => [m.pair, { name: m.pair, truth: m.truth, predicted: m.predicted }])).values()];
  const groups = pairs.map((p) => ({
    pair: p.name,
    truth: p.truth,
    predicted: p.predicted,
    description: pairDescription(p.truth, p.predicted),
    folder: path.join(f.out, pairFolder(p.truth, p.predicted)),
    images: mistakes.filter((m) => m.pair === p.name).map((m) => m.image),
  }));
  const doc = {
    labels: conf.labels,
    rows: 'true class',
    columns: 'predicted class',
    matrix: conf.matrix,
    total: conf.total,
    correct: conf.correct,
    accuracy: conf.accuracy,
    model: modelLabel(session.modelPath),
    backend: session.backend,
    patch: f.patch,
    stride,
    groups,
    mistakes,
    frames: frames.map(({ input: _input, ...fr }) => fr),
    unlabelled,
    errors: failed,
    interrupted: io.signal?.aborted === true,
  };
  await writeFileAtomic(path.join(f.out, 'confusion.json'), JSON.stringify(doc, null, 1) + '\n');
  const pct = (p: number) => (p * 100).toFixed(2) + '%';
  const entries: PageEntry[] = mistakes.map((m) => ({
    image: m.image,
    overlay: m.output ? relativeHref(report, m.output) : null,
    original: relativeHref(report, m.image),
    predicted: m.predicted,
    probability: m.probability,
    class: m.predicted,
    classProbability: m.probability,
    minProbability: m.predictedMap?.minProbability ?? null,
    minPatch: m.predictedMap?.minPatch ?? null,
    error: m.error ?? null,
    group: m.pair,
    truth: m.truth,
    note: m.predictedMap && m.trueMap
      ? `left: ${m.predicted} map, min ${pct(m.predictedMap.minProbability)}; right: ${m.truth} map, ${pct(m.trueMap.probability)} unoccluded, up to ${pct(m.trueMap.maxProbability)}`
      : undefined,
  }));
  await writeReport(report, entries, {
    title: 'occlude review: mistakes',
    subtitle: `${conf.correct} of ${conf.total} correct; ${mistakes.length} mistake(s) in ${groups.length} confusion pair(s). Each image: predicted class's heat-map left, true class's right.`,
    groups: groups.map((g) => ({ name: g.pair, description: g.description })),
    labels: session.labels,
  });
  if (f.json) io.stdout.write(JSON.stringify({ ...doc, confusion: path.join(f.out, 'confusion.json'), report }) + '\n');
  else {
    const lines = [confusionText(conf).trimEnd()];
    for (const g of groups) {
      lines.push('', `${g.pair}: ${g.description} (${g.images.length})`);
      for (const m of mistakes.filter((x) => x.pair === g.pair)) {
        lines.push(`  ${m.image}: predicted ${m.predicted} ${pct(m.probability)}, true ${m.truth} ${pct(m.probabilities[m.truth] ?? 0)}${m.output ? ` -> ${m.output}` : m.error ? ` (error: ${m.error})` : ''}`);
      }
    }
    lines.push('', `confusion matrix: ${path.join(f.out, 'confusion.json')}`, `page: ${report}`, `backend: ${session.backend}`);
    io.stdout.write(lines.join('\n') + '\n');
  }
  if (io.signal?.aborted) {
    io.stderr.write('occlude: interrupted\n');
    rep.code = Math.max(rep.code, 130);
  }
}

async function runCheck(files: string[], f: CheckFlags, io: Io, rep: Reporter): Promise<void> {
  const manifests: CheckManifest[] = [];
  for (const file of files) manifests.push(await readManifest(file, EMBEDDED_MODEL)); // all valid before any work
  if (f.junit) await checkWritable(f.junit);
  const suites: JunitSuite[] = [];
  let backend = '';
  const progress = Progress.for(io.stderr, f.quiet === true);
  const say = (s: string) => (f.json ? io.stderr : io.stdout).write(s + '\n');
  try {
    for (const m of manifests) {
      const t0 = Date.now();
      const outcomes: CaseOutcome[] = [];
      suites.push({ name: m.file, outcomes, seconds: 0 });
      if (manifests.length > 1 && !f.json) say(`${m.file}:`);
      const session = await openSession({ ...f, model: f.model ?? m.model ?? undefined }, rep);
      backend = session.backend;
      let variantsSoFar = 0;
      const cache = new Map<string, OcclusionResult>();
      let cacheFile = '';
      try {
        for (let n = 0; n < m.cases.length; n++) {
          const c = m.cases[n];
          if (io.signal?.aborted) break;
          const t = Date.now();
          let outcome: CaseOutcome;
          try {
            if (c.evidence?.length) {
              const key = JSON.stringify([c.file, c.class, c.patch ?? m.patch, c.stride ?? m.stride]);
              if (cacheFile !== c.file) cache.clear(); // keep only the current image's maps
              cacheFile = c.file;
              const r = cache.get(key) ?? await session.occlude(c.file, {
                class: c.class,
                patch: c.patch ?? m.patch,
                stride: c.stride ?? m.stride,
                fill: m.fill,
                signal: io.signal,
                onProgress: (d, total) => progress.update(c.name, n, m.cases.length, d, total, variantsSoFar + d),
              });
              if (!cache.has(key)) variantsSoFar += r.variants;
              cache.set(key, r); // several cases on the same image and class share one map
              progress.clear();
              outcome = evaluateCase(c, m, r.predicted, { map: r.map, width: r.width, height: r.height, probability: r.probability, class: r.class, minPatch: r.minPatch, minProbability: r.minProbability }, (Date.now() - t) / 1000);
            } else {
              const p = await session.predict(c.file);
              outcome = evaluateCase(c, m, p, null, (Date.now() - t) / 1000);
            }
          } catch (err) {
            progress.clear();
            if (io.signal?.aborted) break;
            const msg = messageOf(err).split('\n')[0];
            outcome = errorOutcome(c, msg.includes(shownPath(c.file)) ? msg : withName(msg, c.image), (Date.now() - t) / 1000);
          }
          outcomes.push(outcome);
          if (f.json) io.stdout.write(JSON.stringify({ manifest: m.file, backend: session.backend, ...outcome }) + '\n');
          else say(outcomeLine(outcome));
        }
      } finally {
        progress.clear();
        await session.close();
        suites[suites.length - 1].seconds = (Date.now() - t0) / 1000;
      }
    }
  } finally {
    if (f.junit && suites.length) await writeFileAtomic(f.junit, junitXml(suites)).catch((e) => rep.error(e));
  }
  const all = suites.flatMap((s) => s.outcomes);
  const failed = all.filter((o) => !o.pass).length;
  const total = manifests.reduce((t, m) => t + m.cases.length, 0);
  say(`${all.length - failed} passed, ${failed} failed${all.length < total ? `, ${total - all.length} not run` : ''}${backend ? `; backend ${backend}` : ''}${f.junit ? ` (JUnit: ${f.junit})` : ''}`);
  if (failed) rep.code = Math.max(rep.code, 1);
  if (io.signal?.aborted) {
    io.stderr.write('occlude: interrupted\n');
    rep.code = Math.max(rep.code, 130);
  }
}

/** Patch, fill and rendering flags shared by the main command and `review`. */
function addOcclusionOptions(cmd: Command): Command {
  return cmd
    .option('-p, --patch <px>', 'patch size in pixels', int('patch'), DEFAULTS.patch)
    .option('-s, --stride <px>', 'stride in pixels (default: half the patch)', int('stride'))
    .option('--fill <value>', 'occluder: grey level 0..1, hex colour, mean or blur', '0.5')
    .addOption(new Option('--colormap <name>', 'heat-map colours').choices(COLORMAPS as string[]).default(RENDER_DEFAULTS.colormap))
    .option('--alpha <a>', 'heat-map opacity 0..1', num('alpha', 0, 1), RENDER_DEFAULTS.alpha)
    .option('--no-legend', 'no colour bar')
    .option('-r, --recursive', 'descend into sub-folders');
}

/** Build the CLI program; `state.code` receives the exit code. Tests drive it in-process. */
export function createProgram(io: Io, state: Runner = { code: 0 }): Command {
  const program = new Command('occlude');
  program
    .description('Occlusion sensitivity heat-maps (Zeiler & Fergus 2014) for TF.js image classifiers: which part of the image the prediction rests on.')
    .version(VERSION, '-V, --version')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .enablePositionalOptions()
    .showSuggestionAfterError(true);

  addModelOptions(addOcclusionOptions(program))
    .argument('[images...]', 'image files, folders or glob patterns')
    .option('-c, --class <name|index>', 'target class (default: the predicted class)')
    .addOption(new Option('--mode <mode>', 'prob: mean target probability; drop: baseline minus it').choices(['prob', 'drop']).default('prob'))
    .option('--iterate <n>', 'passes; each greys out the previous minimum patch for good', int('iterate'), 1)
    .option('-o, --output <file>', 'overlay PNG (default: <image>.occlusion.png beside the image)')
    .option('--out <dir>', 'write outputs into this folder (mirroring input paths)')
    .option('--range <auto|lo,hi>', 'colour scale', 'auto')
    .option('--save-map <file>', 'raw heat-map: .f32 (float32 LE, HxW), .json or .png (16-bit)')
    .option('--resume', 'skip images already done in --out (summary row without error and overlay present)')
    .option('--report <file>', 'write a static HTML page of the results (e.g. results/index.html)')
    .addHelpText(
      'after',
      `
Examples:
  occlude frame.jpg --class red --patch 64 --stride 16
  occlude frame.jpg --model ../shared/seed-model/nexar-squeezenet-a --patch 32 --stride 16 --json
  occlude frames/ more/*.jpg --out results/ --class red --report results/index.html
  occlude frames/ --recursive --out results/ --resume
  occlude predict frame1.jpg frame2.jpg --json
  occlude review frames/ --labels labels.csv --out review/
  occlude check fixtures/manifest.json --junit results.xml

With --out DIR, DIR/summary.csv and DIR/summary.jsonl get one row per image.

Exit codes: 0 ok, 1 runtime failure (unreadable image or model, unwritable output), 2 usage error,
130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP (each stops after the current batch and writes
the summary and the page).`,
    )
    .action(async (images: string[], flags: OccludeFlags) => {
      const rep = new Reporter(io, flags);
      if (!images.length) {
        program.outputHelp({ error: true });
        throw usageError('no image given');
      }
      await runWith(rep, state, () => runOcclude(images, flags, io, rep));
    });

  const predict = program.command('predict').description('classify images without occluding').argument('<images...>', 'image files or folders');
  addModelOptions(predict).action(async (images: string[], flags: ModelFlags) => {
    const rep = new Reporter(io, flags);
    await runWith(rep, state, () => runPredict(images, flags, io, rep));
  });
  const review = program
    .command('review')
    .description('classify labelled frames, print the confusion matrix, and show each mistake as two heat-maps: predicted class and true class')
    .argument('<images...>', 'image files, folders or glob patterns')
    .requiredOption('--labels <csv>', 'labels.csv with the columns image,class')
    .requiredOption('--out <dir>', 'output folder: confusion.json, one side-by-side PNG per mistake, index.html')
    .option('--report <file>', 'the review page (default: <out>/index.html)');
  addModelOptions(addOcclusionOptions(review), { labels: false, json: 'print confusion.json on stdout' })
    .addHelpText(
      'after',
      `
Example:
  occlude review frames/ --labels labels.csv --out review/ --model ../shared/seed-model/nexar-squeezenet-a

Mistakes are grouped by confusion pair (true→predicted), e.g. review/none-as-red/frame.review.png:
left the predicted class's heat-map, right the true class's. Exit code 0 (mistakes are the output),
1 when a frame could not be read.`,
    )
    .action(async (images: string[], flags: ReviewFlags) => {
      const rep = new Reporter(io, flags);
      await runWith(rep, state, () => runReview(images, flags, io, rep));
    });

  const check = program
    .command('check')
    .description('check heat-maps against a manifest of expected classes and evidence boxes (for CI)')
    .argument('<manifests...>', 'manifest JSON files')
    .option('--junit <file>', 'write JUnit XML');
  addModelOptions(check, { json: 'one JSON object per case on stdout' })
    .addHelpText(
      'after',
      `
Example:
  occlude check fixtures/manifest.json --junit results.xml

A case passes when the predicted class equals "class" (when given) and the minimum of that
class's heat-map lies in one of the "evidence" boxes (or, with "rule": "energy", at least
"minShare" of the probability drop does). --model overrides the manifest's model.
Exit codes: 0 all cases pass, 1 a case fails, 2 a bad manifest, 130 interrupted (Ctrl-C),
143 SIGTERM, 129 SIGHUP (the JUnit file lists every case that did not run as an error).`,
    )
    .action(async (manifests: string[], flags: CheckFlags) => {
      const rep = new Reporter(io, flags);
      await runWith(rep, state, () => runCheck(manifests, flags, io, rep));
    });
  return program;
}

async function runWith(rep: Reporter, state: Runner, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    rep.error(err);
  }
  state.code = Math.max(state.code, rep.code);
}

/** Run the CLI with user arguments (no node/script prefix); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const state: Runner = { code: 0 };
  const program = createProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    io.stderr.write(`occlude: ${messageOf(err)}\n`);
    return err instanceof OccludeError ? err.exitCode : 1;
  }
  return state.code;
}
