/** The progress bar: one line on stderr, shown only when stderr is a terminal. */
import type { ProgressEvent } from '../runs/events.js';

export class Progress {
  private last = 0;
  private shown = false;

  constructor(
    private readonly stream: { write(s: string): unknown; isTTY?: boolean; columns?: number },
    private readonly enabled: boolean,
  ) {}

  static for(stream: { write(s: string): unknown; isTTY?: boolean }, quiet: boolean): Progress {
    return new Progress(stream, !quiet && stream.isTTY === true);
  }

  /** Show where the run is (at most every 100 ms, and at the end of each image). */
  update(p: ProgressEvent): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && p.done < p.total) return;
    this.last = now;
    const frac = p.total ? p.done / p.total : 0;
    const width = 20;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '-');
    const line = `[${bar}] image ${p.index + 1}/${p.count} (${p.index} done, ${p.count - p.index} to do) ${p.label}  ${p.done}/${p.total} variants  ${p.rate.toFixed(1)}/s  ETA ${duration(p.eta)}`;
    const cols = this.stream.columns ?? 100;
    this.stream.write('\r' + line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length)) + '\x1b[K');
    this.shown = true;
  }

  clear(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

/** 42s, 3m05s, 1h02m */
export function duration(secs: number): string {
  if (secs < 60) return `${secs}s`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s`;
  return `${Math.floor(secs / 3600)}h${String(Math.floor((secs % 3600) / 60)).padStart(2, '0')}m`;
}
