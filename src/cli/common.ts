import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { Session, type SessionOptions } from '../session.js';
import { OccludeError, runtimeError, messageOf, fsReason, withName } from '../errors.js';
import { byteSize, patchAndStride, type BackendRequest, type EngineRequest } from '../options.js';
import { FolderLock } from '../report/lock.js';

/** What the CLI runs with: the common flags, the error reporter and the session. */
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
      range: f.inputRange as [number, number] | undefined,
      mean: f.mean,
      std: f.std,
      channels: f.channels,
    },
  };
}

export class Reporter {
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

export async function openSession(f: ModelFlags, rep: Reporter): Promise<Session> {
  const session = await Session.open(sessionOptions(f));
  rep.info(`model: ${session.modelLabel} (${session.model.kind}, input ${session.inputSpec().height}x${session.inputSpec().width}, labels ${session.labels.join(', ')})`);
  const batch = `batch size: ${session.batchSize(session.inputSpec())} variants per forward pass${f.batchSize ? '' : ` (from the memory budget${f.exactReference ? '; smaller for large images with --exact-reference' : ''})`}`;
  rep.info(`backend: ${session.backend}${session.backendInfo.notes.length ? ` (${session.backendInfo.notes.join('; ')})` : ''}; workers: ${session.workers}${session.workersNote ? ` (${session.workersNote})` : ''}; ${batch}`);
  rep.info(`engine: ${session.engine} (${session.engineInfo.reason})`);
  return session;
}

export async function checkWritable(file: string): Promise<void> {
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
export function strideOf(f: { patch: number; stride?: number }): number {
  return patchAndStride(f.patch, f.stride).stride;
}

/** Run `fn` holding the lock of an output folder (a second run into it is refused while this one writes). */
export async function withFolderLock<T>(dir: string, io: Io, fn: () => Promise<T>): Promise<T> {
  const lock = await FolderLock.take(dir, (s) => io.stderr.write(s + '\n'));
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
