import path from 'node:path';
import { readTextFile } from '../files.js';
import type { OcclusionResult } from '../result.js';
import { drawLabel } from '../render/overlay.js';
import { overlayRgb, imageOf } from '../render/save.js';
import type { RenderOptions } from '../options.js';
import type { ImageInput } from '../image/decode.js';
import { encodePng } from '../image/encode.js';
import { writeFileAtomic } from '../files.js';
import { usageError } from '../errors.js';
import { parseCsv } from './summary.js';

/** labels.csv: a header with the columns `image,class` (any order, other columns ignored). */
export interface LabelRow {
  image: string;
  class: string;
  /** the image path resolved against the CSV's folder */
  file: string;
}

export async function readLabels(file: string): Promise<LabelRow[]> {
  const text = await readTextFile(file);
  const rows = parseCsv(text);
  if (!rows.length) throw usageError(`${file}: empty; expected a header "image,class" and one row per frame`, file);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const ci = header.indexOf('image');
  const cc = header.indexOf('class');
  if (ci < 0 || cc < 0) throw usageError(`${file}: expected the columns image,class but the header is ${JSON.stringify(rows[0].join(','))}`, file);
  const dir = path.dirname(path.resolve(file));
  const out: LabelRow[] = [];
  rows.slice(1).forEach((r, i) => {
    const image = (r[ci] ?? '').trim();
    const cls = (r[cc] ?? '').trim();
    if (!image && !cls) return;
    if (!image || !cls) throw usageError(`${file}: line ${i + 2} needs both an image and a class`, file);
    out.push({ image, class: cls, file: path.resolve(dir, image) });
  });
  return out;
}

/**
 * The label of an input: by its path (resolved against the CSV's folder), else by its path
 * relative to the folder given on the command line, else by its file name when that is unique.
 */
export class LabelIndex {
  private byFile = new Map<string, string>();
  private byRel = new Map<string, string>();
  private byBase = new Map<string, string | null>();
  constructor(rows: LabelRow[]) {
    for (const r of rows) {
      this.byFile.set(r.file, r.class);
      this.byRel.set(norm(r.image), r.class);
      const b = path.basename(r.image);
      this.byBase.set(b, this.byBase.has(b) ? null : r.class);
    }
  }
  get(file: string, relative: string): string | undefined {
    return this.byFile.get(path.resolve(file)) ?? this.byRel.get(norm(relative)) ?? this.byBase.get(path.basename(file)) ?? undefined;
  }
}

const norm = (p: string) => path.normalize(p).split(path.sep).join('/').replace(/^\.\//, '');

export interface Confusion {
  labels: string[];
  /** matrix[t][p]: frames of true class labels[t] predicted as labels[p] */
  matrix: number[][];
  total: number;
  correct: number;
  accuracy: number | null;
}

export function confusion(labels: string[], pairs: { truth: string; predicted: string }[]): Confusion {
  const matrix = labels.map(() => labels.map(() => 0));
  let correct = 0;
  for (const p of pairs) {
    const t = labels.indexOf(p.truth);
    const q = labels.indexOf(p.predicted);
    if (t < 0 || q < 0) continue;
    matrix[t][q]++;
    if (t === q) correct++;
  }
  const total = matrix.flat().reduce((a, b) => a + b, 0);
  return { labels, matrix, total, correct, accuracy: total ? correct / total : null };
}

/** The matrix as text: rows are the true classes, columns the predicted ones. */
export function confusionText(c: Confusion): string {
  const head = ['true \\ predicted', ...c.labels];
  const rows = c.labels.map((l, t) => [l, ...c.matrix[t].map(String)]);
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((s, j) => (j === 0 ? s.padEnd(w[j]) : s.padStart(w[j]))).join('  ');
  const acc = c.accuracy === null ? 'no labelled frame' : `${c.correct} of ${c.total} correct (${(c.accuracy * 100).toFixed(1)}%)`;
  return [line(head), ...rows.map(line), acc].join('\n') + '\n';
}

/** "none→red": true class, then predicted. */
export const pairName = (truth: string, predicted: string) => `${truth}\u2192${predicted}`;
/** Folder of a confusion pair under --out: none-as-red. */
export const pairFolder = (truth: string, predicted: string) => `${safe(truth)}-as-${safe(predicted)}`;
const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

/** What a confusion pair means for traffic lights (generic wording for other class names). */
export function pairDescription(truth: string, predicted: string): string {
  const t = truth.toLowerCase();
  const p = predicted.toLowerCase();
  if (t === 'none') return `a ${predicted} traffic light where there is none`;
  if (p === 'none') return `a ${truth} traffic light missed`;
  if (['red', 'green', 'yellow', 'amber'].includes(t) && ['red', 'green', 'yellow', 'amber'].includes(p)) return `a ${truth} light read as ${predicted}`;
  return `${truth} taken for ${predicted}`;
}

export const SIDE_GAP = 8;

/**
 * One PNG with two overlays side by side: the heat-map of the predicted class on the left,
 * the true class's on the right, each on its own colour scale (with its title), with a dark gap
 * between them. Each half is labelled at its top left: `predicted: red`, `true: none`.
 */
export async function saveSideBySide(file: string, image: ImageInput, left: OcclusionResult, right: OcclusionResult, o: RenderOptions = {}): Promise<void> {
  const { width, height } = left;
  const pixels = await imageOf(left, image);
  const render = (r: OcclusionResult, label: string) => {
    const { rgb } = overlayRgb(r, pixels, o);
    const m = Math.max(3, Math.round(height * 0.03));
    drawLabel(rgb, width, height, label, m, m);
    return rgb;
  };
  const a = render(left, `predicted: ${left.class}`);
  const b = render(right, `true: ${right.class}`);
  const W = width * 2 + SIDE_GAP;
  const out = new Uint8Array(W * height * 3).fill(24);
  for (let y = 0; y < height; y++) {
    out.set(a.subarray(y * width * 3, (y + 1) * width * 3), y * W * 3);
    out.set(b.subarray(y * width * 3, (y + 1) * width * 3), (y * W + width + SIDE_GAP) * 3);
  }
  await writeFileAtomic(file, await encodePng(out, W, height));
}
