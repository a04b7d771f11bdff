/**
 * What a run (folder, predict, review, check) tells its caller while it works: progress, per-image
 * results, failures and notices. A run prints nothing and never exits the process; the CLI is one
 * listener (it prints), a Node script or a test is another.
 */
import { OccludeError, runtimeError, messageOf } from '../errors.js';
import { Session, type SessionOptions } from '../session.js';

/** Where a run is: the image (or case) in hand out of all, the variants of it done, the rate and what is left. */
export interface ProgressEvent {
  /** what is in hand: an image's file name, `classifying a.jpg`, a case's name */
  label: string;
  /** images (or cases) before this one, and in all */
  index: number;
  count: number;
  /** variants of this image done, and in all */
  done: number;
  total: number;
  /** variants per second since the run's work began */
  rate: number;
  /** seconds left at that rate (0 while unknown) */
  eta: number;
}

/** An image (or case) of the run failed: the run goes on without it. */
export interface ImageFailure {
  image: string;
  error: OccludeError;
  /** how many images the run has: one failure among several is that image's, not the run's */
  of: number;
}

export interface RunEvents {
  /** the session is open: the model loaded, the backend, workers and engine chosen */
  session?(session: Session): void;
  progress?(p: ProgressEvent): void;
  /** something to know: files skipped, a folder resumed, a stale lock removed, frames without a label */
  notice?(message: string): void;
  /** an image failed; the run goes on */
  failure?(f: ImageFailure): void;
  /** an output (the summary, the page, the JUnit file) could not be written; the run goes on */
  error?(error: OccludeError): void;
}

/** Any error as an OccludeError (a runtime error unless it says otherwise), with the stack of where it was thrown. */
export function asOccludeError(err: unknown): OccludeError {
  if (err instanceof OccludeError) return err;
  const e = runtimeError(messageOf(err), undefined, err);
  if (err instanceof Error && err.stack) e.stack = err.stack;
  return e;
}

/** The options' session, or a new one (closed by `release`); the session event is sent either way. */
export async function useSession(o: SessionOptions & { session?: Session }, events: RunEvents): Promise<{ session: Session; release(): Promise<void> }> {
  const session = o.session ?? (await Session.open(o));
  events.session?.(session);
  return { session, release: async () => (o.session ? undefined : session.close()) };
}

/** Rates and ETAs of a run's progress, counted from start() (inference, not model loading). */
export class ProgressMeter {
  private started = Date.now();
  private variants = 0;

  constructor(private readonly events: RunEvents) {}

  start(): void {
    this.started = Date.now();
  }

  /** A callback for Session.occlude's onProgress, for image (or case) `index` of `count`. */
  image(label: string, index: number, count: number): (done: number, total: number) => void {
    return (done, total) => this.report(label, index, count, done, total);
  }

  /** An image's variants are done (they count towards the rate). */
  finished(variants: number): void {
    this.variants += variants;
  }

  report(label: string, index: number, count: number, done: number, total: number): void {
    if (!this.events.progress) return;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? (this.variants + done) / secs : 0;
    const left = total - done + (count - index - 1) * total;
    this.events.progress({ label, index, count, done, total, rate, eta: rate > 0 ? Math.round(left / rate) : 0 });
  }
}
