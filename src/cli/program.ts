import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Command, CommanderError, Option, InvalidArgumentError } from 'commander';
import { Session, DEFAULTS, modelLabel, type SessionOptions, type OccludeOptions } from '../occlude.js';
import { OccludeError, usageError, runtimeError, messageOf } from '../errors.js';
import { BACKEND_CHOICES, type BackendRequest } from '../model/backends.js';
import { parseBytes } from '../infer/batch.js';
import { DEFAULT_MAX_PIXELS } from '../image/decode.js';
import { COLORMAPS, type ColormapName } from '../render/colormap.js';
import { saveOverlay, parseRange, RENDER_DEFAULTS } from '../render/save.js';
import { saveMap, checkMapPath } from '../heatmap/save.js';
import { resultJson, resultText, predictionJson } from '../report/json.js';
import { expandInputs, type InputFile } from './inputs.js';
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
}

function addModelOptions(cmd: Command): Command {
  return cmd
    .option('-m, --model <path>', 'model folder or model.json (TF.js LayersModel or GraphModel; SavedModel with tfjs-node); default: the embedded traffic-light model')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_CHOICES as string[]).default('auto'))
    .option('--workers <n>', 'inference worker threads (wasm/cpu); default: the number of cores', int('workers'))
    .option('--batch-size <n>', 'variants per forward pass; default: chosen from --memory-budget', int('batch-size'))
    .option('--memory-budget <bytes>', 'memory for batches, e.g. 512MB, 2GB (default 1GB)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this', int('max-pixels'), DEFAULT_MAX_PIXELS)
    .option('--labels <a,b,c>', 'class labels (overrides occlude.json)')
    .option('--input-size <HxW>', 'model input size (overrides occlude.json)', hw('input-size'))
    .option('--resize <HxW>', 'resize the frame to this before a centre crop (overrides occlude.json)', hw('resize'))
    .addOption(new Option('--crop <mode>', 'centre crop after resize (overrides occlude.json)').choices(['center', 'none']))
    .option('--input-range <lo,hi>', 'pixel value range the model expects, e.g. 0,255 or -1,1', nums('input-range', 2))
    .option('--mean <r,g,b>', 'per-channel mean subtracted after the range', nums('mean'))
    .option('--std <r,g,b>', 'per-channel std divided after the mean', nums('std'))
    .addOption(new Option('--channels <order>', 'channel order').choices(['rgb', 'bgr']))
    .option('--exact-reference', 'use the straightforward procedure (paint + full resize per variant); slow, for checking')
    .option('--json', 'one JSON object per image on stdout')
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
  error(err: unknown, image?: string): void {
    const e = err instanceof OccludeError ? err : runtimeError(messageOf(err), undefined, err);
    this.code = Math.max(this.code, e.exitCode);
    const prefix = this.colour ? '\x1b[31mocclude:\x1b[0m' : 'occlude:';
    const msg = image && !e.message.includes(image) ? `${image}: ${e.message}` : e.message;
    this.io.stderr.write(`${prefix} ${msg.split('\n')[0]}\n`);
    if (this.flags.debug && err instanceof Error && err.stack) this.io.stderr.write(err.stack + '\n');
    if (this.flags.json && image) this.io.stdout.write(JSON.stringify({ image, error: msg.split('\n')[0] }) + '\n');
  }
  info(s: string): void {
    if (this.flags.verbose) this.io.stderr.write(s + '\n');
  }
}

async function openSession(f: ModelFlags, rep: Reporter): Promise<Session> {
  const session = await Session.open(sessionOptions(f));
  rep.info(`model: ${modelLabel(session.modelPath)} (${session.model.kind}, input ${session.inputSpec().height}x${session.inputSpec().width}, labels ${session.labels.join(', ')})`);
  rep.info(`backend: ${session.backend}${session.backendInfo.notes.length ? ` (${session.backendInfo.notes.join('; ')})` : ''}; workers: ${session.workers}`);
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
    const code = (err as NodeJS.ErrnoException).code;
    throw runtimeError(`cannot write ${file}: ${code === 'ENOENT' ? 'its folder does not exist' : 'permission denied'}`, file, err);
  }
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
  if (f.saveMap) checkMapPath(f.saveMap);
  const inputs = await expandInputs(args, f.recursive ?? false);
  if (!inputs.files.length) throw usageError('no image to process');
  if (inputs.skipped) io.stderr.write(`occlude: skipped ${inputs.skipped} file(s) that are not images\n`);
  if (inputs.files.length > 1 && (f.output || f.saveMap)) {
    throw usageError('-o/--output and --save-map name one file: with several images use --out DIR');
  }
  if (f.out) await fs.mkdir(f.out, { recursive: true }).catch((err) => {
    throw runtimeError(`cannot create ${f.out}: ${messageOf(err)}`, f.out, err);
  });
  const opts: OccludeOptions = {
    class: f.class,
    patch: f.patch,
    stride: f.stride,
    fill: f.fill,
    mode: f.mode,
    iterate: f.iterate,
    signal: io.signal,
  };
  const session = await openSession(f, rep);
  const progress = Progress.for(io.stderr, f.quiet === true);
  let variantsSoFar = 0;
  try {
    for (let n = 0; n < inputs.files.length; n++) {
      const input = inputs.files[n];
      const output = outputPathFor(input, f);
      try {
        if (io.signal?.aborted) break;
        if (f.out) await fs.mkdir(path.dirname(output), { recursive: true });
        await checkWritable(output);
        if (f.saveMap) await checkWritable(f.saveMap);
        const result = await session.occlude(input.file, {
          ...opts,
          onProgress: (done, total) => progress.update(path.basename(input.file), n, inputs.files.length, done, total, variantsSoFar + done),
        });
        variantsSoFar += result.variants;
        progress.clear();
        await saveOverlay(output, result, { colormap: f.colormap, alpha: f.alpha, range, legend: f.legend });
        if (f.saveMap) await saveMap(f.saveMap, result.map, result.width, result.height);
        rep.info(`${input.file}: ${result.evaluated} of ${result.variants} variants through the model (the rest are outside what it sees), ${result.seconds.toFixed(2)} s, backend ${result.backend}`);
        const paths = { output, map: f.saveMap ?? null };
        if (f.json) io.stdout.write(JSON.stringify(resultJson(result, paths, modelLabel(session.modelPath))) + '\n');
        else io.stdout.write(resultText(result, paths).join('\n') + '\n');
      } catch (err) {
        progress.clear();
        if (io.signal?.aborted) break;
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err; // a bad flag fails every image
        rep.error(err, input.file);
      }
    }
  } finally {
    progress.clear();
    await session.close();
  }
  if (io.signal?.aborted) {
    io.stderr.write('occlude: interrupted\n');
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
          io.stdout.write(`${p.image}: ${p.class} (${(p.probability * 100).toFixed(2)}%)  [${all}]\n`);
        }
      } catch (err) {
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err;
        rep.error(err, input.file);
      }
    }
  } finally {
    await session.close();
  }
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

  addModelOptions(program)
    .argument('[images...]', 'image files, folders or glob patterns')
    .option('-c, --class <name|index>', 'target class (default: the predicted class)')
    .option('-p, --patch <px>', 'patch size in pixels', int('patch'), DEFAULTS.patch)
    .option('-s, --stride <px>', 'stride in pixels (default: half the patch)', int('stride'))
    .option('--fill <value>', 'occluder: grey level 0..1, hex colour, mean or blur', '0.5')
    .addOption(new Option('--mode <mode>', 'prob: mean target probability; drop: baseline minus it').choices(['prob', 'drop']).default('prob'))
    .option('--iterate <n>', 'passes; each greys out the previous minimum patch for good', int('iterate'), 1)
    .option('-o, --output <file>', 'overlay PNG (default: <image>.occlusion.png beside the image)')
    .option('--out <dir>', 'write outputs into this folder (mirroring input paths)')
    .addOption(new Option('--colormap <name>', 'heat-map colours').choices(COLORMAPS as string[]).default(RENDER_DEFAULTS.colormap))
    .option('--alpha <a>', 'heat-map opacity 0..1', num('alpha', 0, 1), RENDER_DEFAULTS.alpha)
    .option('--range <auto|lo,hi>', 'colour scale', 'auto')
    .option('--no-legend', 'no colour bar')
    .option('--save-map <file>', 'raw heat-map: .f32 (float32 LE, HxW), .json or .png (16-bit)')
    .option('-r, --recursive', 'descend into sub-folders')
    .addHelpText(
      'after',
      `
Examples:
  occlude frame.jpg --class red --patch 64 --stride 16
  occlude frame.jpg --model ../shared/seed-model/nexar-squeezenet-a --patch 32 --stride 16 --json
  occlude predict frame1.jpg frame2.jpg --json

Exit codes: 0 ok, 1 runtime failure (unreadable image or model, unwritable output), 2 usage error.`,
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
    return 1;
  }
  return state.code;
}
