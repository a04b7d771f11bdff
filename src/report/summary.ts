import path from 'node:path';
import type { OcclusionResult } from '../result.js';
import type { Rect } from '../plan/grid.js';
import { writeFileAtomic } from '../files.js';
import { contrastOf } from '../render/legend.js';
import { readTextFile, isMissing } from '../files.js';

/**
 * One row of results/summary.csv and results/summary.jsonl: one per image of a folder run.
 * A failed image has `error` set and the result fields null.
 */
export interface SummaryRow {
  /** the input path as given (or as found in a folder) */
  image: string;
  /** the overlay PNG, relative to the --out folder */
  output: string | null;
  predicted: string | null;
  /** probability of the predicted class */
  probability: number | null;
  /** target class of the heat-map */
  class: string | null;
  /** unoccluded probability of the target class */
  classProbability: number | null;
  minProbability: number | null;
  minPatch: Rect | null;
  seconds: number | null;
  error: string | null;
  /** the map's total contrast (probability): below 0.01 it shows no evidence (absent in rows of older runs) */
  contrast?: number | null;
}

export const SUMMARY_CSV = 'summary.csv';
export const SUMMARY_JSONL = 'summary.jsonl';

export const CSV_COLUMNS = [
  'image',
  'predicted',
  'probability',
  'class',
  'class_probability',
  'min_probability',
  'min_left',
  'min_top',
  'min_width',
  'min_height',
  'seconds',
  'output',
  'error',
  'contrast',
] as const;

export function summaryRow(r: OcclusionResult, output: string | null): SummaryRow {
  return {
    image: r.image,
    output,
    predicted: r.predicted.class,
    probability: r.predicted.probability,
    class: r.class,
    classProbability: r.probability,
    minProbability: r.minProbability,
    minPatch: r.minPatch,
    seconds: Math.round(r.seconds * 1000) / 1000,
    error: null,
    contrast: contrastOf(r),
  };
}

export function errorRow(image: string, error: string, output: string | null = null): SummaryRow {
  return { image, output, predicted: null, probability: null, class: null, classProbability: null, minProbability: null, minPatch: null, seconds: null, error, contrast: null };
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function summaryCsv(rows: SummaryRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [r.image, r.predicted, r.probability, r.class, r.classProbability, r.minProbability, r.minPatch?.left, r.minPatch?.top, r.minPatch?.width, r.minPatch?.height, r.seconds, r.output, r.error, r.contrast]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

export function summaryJsonl(rows: SummaryRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

/** Write summary.csv and summary.jsonl into `dir`, each atomically. */
export async function writeSummary(dir: string, rows: SummaryRow[]): Promise<void> {
  await writeFileAtomic(path.join(dir, SUMMARY_JSONL), summaryJsonl(rows));
  await writeFileAtomic(path.join(dir, SUMMARY_CSV), summaryCsv(rows));
}

/**
 * The rows of an earlier run's summary.jsonl (none when it is missing); damaged lines are skipped (those
 * images are redone). A summary that exists but cannot be read is an error: rewriting it would lose its rows.
 */
export async function readSummary(dir: string): Promise<SummaryRow[]> {
  let text: string;
  try {
    text = await readTextFile(path.join(dir, SUMMARY_JSONL));
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  const rows: SummaryRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as SummaryRow;
      if (typeof r.image === 'string') rows.push(r);
    } catch {
      // a damaged line: that image is redone
    }
  }
  return rows;
}

/**
 * The summary of an --out folder across runs: one row per image, keyed by the image's absolute path.
 * Rows of earlier runs come first, in their order; a new image's row is appended, a known image's row replaced in place.
 */
export class SummaryTable {
  private readonly rows = new Map<string, SummaryRow>();

  /** Add an earlier run's rows; their relative image paths resolve against the folder that run started in. */
  load(rows: SummaryRow[], cwd: string): void {
    for (const r of rows) this.rows.set(path.resolve(cwd, r.image), r);
  }

  get(image: string): SummaryRow | undefined {
    return this.rows.get(path.resolve(image));
  }

  set(image: string, row: SummaryRow): void {
    this.rows.set(path.resolve(image), row);
  }

  /** The row whose overlay is `output` (relative to the folder), with its key. */
  byOutput(output: string): { key: string; row: SummaryRow } | undefined {
    for (const [key, row] of this.rows) if (row.output === output) return { key, row };
    return undefined;
  }

  list(): SummaryRow[] {
    return [...this.rows.values()];
  }
}

/** Parse CSV text (RFC 4180: quoted fields, doubled quotes, CRLF) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows;
}
