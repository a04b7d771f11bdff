/** A one-line progress display on stderr, shown only when stderr is a terminal. */
export class Progress {
  private last = 0;
  private started = Date.now();
  private shown = false;

  constructor(
    private readonly stream: { write(s: string): unknown; isTTY?: boolean; columns?: number },
    private readonly enabled: boolean,
  ) {}

  static for(stream: { write(s: string): unknown; isTTY?: boolean }, quiet: boolean): Progress {
    return new Progress(stream, !quiet && stream.isTTY === true);
  }

  reset(): void {
    this.started = Date.now();
  }

  /** images done/total, variants done/total of the current image */
  update(label: string, imagesDone: number, imagesTotal: number, done: number, total: number, variantsSoFar: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? variantsSoFar / secs : 0;
    const remainingVariants = total - done + (imagesTotal - imagesDone - 1) * total;
    const eta = rate > 0 ? Math.round(remainingVariants / rate) : 0;
    const frac = total ? done / total : 0;
    const width = 20;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '-');
    const line = `[${bar}] image ${imagesDone + 1}/${imagesTotal} (${imagesDone} done, ${imagesTotal - imagesDone} to do) ${label}  ${done}/${total} variants  ${rate.toFixed(1)}/s  ETA ${duration(eta)}`;
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
