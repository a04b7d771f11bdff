import type { Rect } from '../plan/grid.js';
import type { RgbImage } from '../image/decode.js';
import { colormapLut, lutIndex, type ColormapName } from './colormap.js';
import { drawText, formatTick, textWidth, GLYPH_H, GLYPH_W } from './font.js';

export interface OverlayOptions {
  colormap: ColormapName;
  /** opacity of the heat-map over the image, 0..1 */
  alpha: number;
  /** the scale the colours span */
  range: { lo: number; hi: number };
  /** boxes to outline, numbered from 1 (the minimum patches of --iterate) */
  boxes?: Rect[];
  legend?: boolean;
  /** the legend's title, e.g. `P(red), patch 32` */
  title?: string;
  /** a warning drawn at the bottom, e.g. that the map has no contrast */
  note?: string | null;
}

const BOX_COLOR: [number, number, number] = [0, 255, 255];
const TEXT_COLOR: [number, number, number] = [255, 255, 255];
const NOTE_COLOR: [number, number, number] = [255, 214, 0];

/** The heat-map blended over the image, at the image's size, with a colour bar and its scale (RGB bytes). */
export function drawOverlay(image: RgbImage, map: Float32Array, o: OverlayOptions): Uint8Array {
  const { width, height } = image;
  const out = new Uint8Array(width * height * 3);
  const lut = colormapLut(o.colormap);
  const a = Math.max(0, Math.min(1, o.alpha));
  for (let i = 0; i < width * height; i++) {
    const k = lutIndex(map[i], o.range.lo, o.range.hi) * 3;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round((1 - a) * image.data[i * 3 + c] + a * lut[k + c]);
  }
  (o.boxes ?? []).forEach((b, n) => drawBox(out, width, height, b, String(n + 1)));
  const legendX = o.legend !== false ? drawColorBar(out, width, height, lut, o.range, o.title) : width;
  if (o.note) drawNote(out, width, height, o.note, legendX);
  return out;
}

function fillRect(rgb: Uint8Array, width: number, height: number, x0: number, y0: number, w: number, h: number, color: [number, number, number], alpha = 1): void {
  for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) {
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) rgb[i + c] = Math.round((1 - alpha) * rgb[i + c] + alpha * color[c]);
    }
  }
}

function drawBox(rgb: Uint8Array, width: number, height: number, b: Rect, label: string): void {
  const t = Math.max(1, Math.round(Math.min(width, height) / 200));
  fillRect(rgb, width, height, b.left, b.top, b.width, t, BOX_COLOR);
  fillRect(rgb, width, height, b.left, b.top + b.height - t, b.width, t, BOX_COLOR);
  fillRect(rgb, width, height, b.left, b.top, t, b.height, BOX_COLOR);
  fillRect(rgb, width, height, b.left + b.width - t, b.top, t, b.height, BOX_COLOR);
  const s = Math.max(1, Math.round(Math.min(width, height) / 300));
  drawText(rgb, width, height, label, b.left + t + 1, b.top + t + 1, s, BOX_COLOR);
}

/** Labels for the top, middle and bottom of the bar, with just enough digits to tell them apart. */
export function scaleLabels(lo: number, hi: number): [string, string, string] {
  const mid = (lo + hi) / 2;
  let labels: [string, string, string] = [formatTick(hi), formatTick(mid), formatTick(lo)];
  for (let digits = 3; digits <= 8 && new Set(labels).size < 3 && hi > lo; digits++) {
    labels = [hi, mid, lo].map((v) => (v === 0 ? '0' : v.toFixed(digits))) as [string, string, string];
  }
  return labels;
}

/** Text scale and margin for an image of this size. */
function metrics(width: number, height: number): { s: number; m: number; pad: number } {
  const s = Math.max(1, Math.floor(Math.min(width, height) / 300));
  return { s, m: Math.max(3, Math.round(height * 0.03)), pad: 3 * s };
}

/** One line of text on a dark box at (x, y); returns the box's height. */
export function drawLabel(rgb: Uint8Array, width: number, height: number, text: string, x: number, y: number, color = TEXT_COLOR): number {
  const { s, pad } = metrics(width, height);
  const h = GLYPH_H * s + 2 * pad;
  fillRect(rgb, width, height, x, y, textWidth(text, s) + 2 * pad, h, [0, 0, 0], 0.6);
  drawText(rgb, width, height, text, x + pad, y + pad, s, color);
  return h;
}

/** The colour bar with its scale, under its title, at the right edge; returns its left edge (width when not drawn). */
function drawColorBar(rgb: Uint8Array, width: number, height: number, lut: Uint8Array, range: { lo: number; hi: number }, title?: string): number {
  const { s, m, pad } = metrics(width, height);
  const barW = Math.max(6, Math.round(width * 0.02));
  const labels = scaleLabels(range.lo, range.hi);
  const labelW = Math.max(...labels.map((l) => textWidth(l, s)));
  const panelW = pad + barW + pad + labelW + pad;
  const panelX = width - m - panelW;
  let panelY = m;
  if (title) {
    const titleX = Math.max(0, width - m - textWidth(title, s) - 2 * pad);
    panelY += drawLabel(rgb, width, height, title, titleX, m) + pad;
  }
  const panelH = height - m - panelY;
  if (panelX < 0 || panelH < GLYPH_H * s * 3) return width; // too small an image for a legend
  fillRect(rgb, width, height, panelX, panelY, panelW, panelH, [0, 0, 0], 0.6);
  const barX = panelX + pad;
  const barY = panelY + pad + Math.floor((GLYPH_H * s) / 2);
  const barH = panelH - 2 * pad - GLYPH_H * s;
  for (let y = 0; y < barH; y++) {
    const k = Math.round((1 - y / Math.max(1, barH - 1)) * 255) * 3;
    fillRect(rgb, width, height, barX, barY + y, barW, 1, [lut[k], lut[k + 1], lut[k + 2]]);
  }
  const tx = barX + barW + pad;
  const half = Math.floor((GLYPH_H * s) / 2);
  drawText(rgb, width, height, labels[0], tx, barY - half, s, TEXT_COLOR);
  drawText(rgb, width, height, labels[1], tx, barY + Math.floor(barH / 2) - half, s, TEXT_COLOR);
  drawText(rgb, width, height, labels[2], tx, barY + barH - 1 - half, s, TEXT_COLOR);
  return panelX;
}

/** A note at the bottom left, word-wrapped to the room left of the legend. */
function drawNote(rgb: Uint8Array, width: number, height: number, note: string, right: number): void {
  const { s, m, pad } = metrics(width, height);
  const room = Math.max(1, Math.floor((right - 2 * m - 2 * pad) / ((GLYPH_W + 1) * s)));
  const lines: string[] = [];
  for (const word of note.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && (lines[last] + ' ' + word).length <= room) lines[last] += ' ' + word;
    else lines.push(word);
  }
  const lineH = GLYPH_H * s + 2 * pad;
  lines.forEach((line, k) => drawLabel(rgb, width, height, line, m, height - m - (lines.length - k) * lineH, NOTE_COLOR));
}
