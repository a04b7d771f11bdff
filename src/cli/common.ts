/** What every command shares: the streams, the model flags, the error reporter and the run events' listener. */
import type { InputSpec } from '../model/metadata.js';
import type { Session, SessionOptions } from '../session.js';
import { OccludeError, runtimeError, messageOf, withName } from '../errors.js';
import { byteSize, type BackendRequest, type EngineRequest } from '../options.js';
import type { RunEvents } from '../runs/events.js';
import { Progress } from './progress.js';

/** Where the CLI writes, and the signal that stops a run (bin/occlude.js gives the process's; tests their own). */
export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  env?: Record<string, string | undefined>;
  /** aborted on Ctrl-C, SIGTERM or SIGHUP (the reason: the signal's name): the run stops after the current batch */
  signal?: AbortSignal;
}

/** Exit codes of the signals that stop a run: 128 + the signal's number. */
const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * How a run was interrupted, or null when it was not: `occlude: interrupted (SIGTERM)` and 143;
 * Ctrl-C (or an abort without a signal's name) is `occlude: interrupted` and 130.
 */
export function interruption(signal: AbortSignal | undefined): { prefix: string; code: number } | null {
  if (!signal?.aborted) return null;
  const name = typeof signal.reason === 'string' && signal.reason in SIGNAL_EXIT_CODES ? signal.reason : 'SIGINT';
  return { prefix: `occlude: interrupted${name === 'SIGINT' ? '' : ` (${name})`}`, code: SIGNAL_EXIT_CODES[name] };
}

export interface ModelFlags {
  model?: string;
  backend: BackendRequest;
  engine: EngineRequest;
  workers?: number;
  batchSize?: number;
  memoryBudget?: string;
  maxPixels: number;
  labels?: string;
  inputSize?: [number, number];
  resize?: [number, number];
  crop?: 'center' | 'none';
  inputFit?: 'stretch' | 'width';
  inputMaxWidth?: number;
  inputChooseScale?: string;
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

export function sessionOptions(f: ModelFlags): SessionOptions {
  const memoryBudget = f.memoryBudget === undefined ? undefined : byteSize('memory-budget', f.memoryBudget);
  return {
    model: f.model,
    backend: f.backend,
    engine: f.engine,
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
      fit: f.inputFit,
      maxWidth: f.inputMaxWidth,
      chooseScale: f.inputChooseScale,
      range: f.inputRange as [number, number] | undefined,
      mean: f.mean,
      std: f.std,
      channels: f.channels,
    },
  };
}

/** The flags every command has that decide how it reports. */
export type ReporterFlags = Pick<ModelFlags, 'color' | 'debug' | 'json' | 'verbose'>;

export class Reporter {
  code = 0;
  constructor(
    private readonly io: Io,
    private readonly flags: ReporterFlags,
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
  /** `occlude: message` on stderr: what a run has to say (skipped files, a resumed folder...). */
  notice(s: string): void {
    this.io.stderr.write(`occlude: ${s}\n`);
  }
  /** The exit code of an interrupted run (after its message), or nothing when it was not interrupted. */
  interrupted(what: (prefix: string) => string): void {
    const stop = interruption(this.io.signal);
    if (!stop) return;
    this.io.stderr.write(what(stop.prefix) + '\n');
    this.code = Math.max(this.code, stop.code);
  }
}

/** The input in -v: its size, and with fit "width" how a frame's shape and width are kept. */
function describeInput(spec: InputSpec): string {
  let text = `input ${spec.height}x${spec.width}`;
  if (spec.fit !== 'width') return text;
  text += ", its height follows each frame's aspect ratio (fit width)";
  if (spec.maxWidth === spec.width) return text;
  text += `, and a wider frame keeps its width up to ${spec.maxWidth} (maxWidth)`;
  if (spec.chooseScale !== null) text += ` or ${spec.width}, whichever gives ${spec.chooseScale} the lower probability (chooseScale)`;
  return text;
}

/** The session in -v: the model, the backend, the workers, the batch size and the engine, each with why. */
function describeSession(session: Session, f: ModelFlags): string[] {
  const spec = session.inputSpec();
  const batch = `batch size: ${session.batchSize(spec)} variants per forward pass${f.batchSize ? '' : ` (from the memory budget${f.exactReference ? '; smaller for large images with --exact-reference' : ''})`}`;
  return [
    `model: ${session.modelLabel} (${session.model.kind}, ${describeInput(spec)}, labels ${session.labels.join(', ')})`,
    `backend: ${session.backend}${session.backendInfo.notes.length ? ` (${session.backendInfo.notes.join('; ')})` : ''}; workers: ${session.workers}${session.workersNote ? ` (${session.workersNote})` : ''}; ${batch}`,
    `engine: ${session.engine} (${session.engineInfo.reason})`,
  ];
}

/**
 * How the CLI shows a run's events: the progress bar (a terminal only), -v lines, notices and errors on
 * stderr; each run's own results are printed by its command. The bar is cleared before anything is written.
 */
export function listen(io: Io, f: ModelFlags, rep: Reporter): RunEvents & { progressBar: Progress } {
  const bar = Progress.for(io.stderr, f.quiet === true);
  return {
    progressBar: bar,
    session: (s) => describeSession(s, f).forEach((l) => rep.info(l)),
    progress: (p) => bar.update(p),
    notice: (s) => {
      bar.clear();
      rep.notice(s);
    },
    failure: ({ image, error, of }) => {
      bar.clear();
      rep.error(error, image, of > 1);
    },
    error: (e) => {
      bar.clear();
      rep.error(e);
    },
  };
}
