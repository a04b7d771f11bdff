import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { Session } from '../dist/index.js';
import { drawOverlay } from '../dist/render/overlay.js';
import { mapRange } from '../dist/heatmap/accumulate.js';
import { saveSideBySide } from '../dist/report/review.js';
import { entriesFromSummary } from '../dist/report/page.js';
import { summaryCsv } from '../dist/report/summary.js';
import { ROOT, saveLayersModel, tmpdir, runCli } from './helpers.js';

/**
 * Issue #17, "what a newcomer reads on the overlay": the legend has a title (the map's quantity and
 * class); a map without contrast says so in the text, the JSON, the overlay and the report page; the
 * review image labels its two halves.
 */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
const FAST = ['--patch', '64', '--stride', '32', '--workers', '1'];
const NOTE_COLOR = [255, 214, 0];
/** src/render/legend.ts and the font's glyph table, imported where used: the CLI tests must also run (and fail) on a tree without them */
const legend = () => import('../dist/render/legend.js');
let dir: string;
let flat: string;
let session: Session;

beforeAll(async () => {
  dir = tmpdir('occlude-legend-');
  // a model whose output hardly depends on its input: every map of it is flat
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: 'ones' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3 }),
    ],
  });
  m.setWeights([...m.getWeights().slice(0, 2), tf.tensor2d([[1e-3, -1e-3, 2e-3], [0, 1e-3, -1e-3]]), tf.zeros([3])]);
  flat = await saveLayersModel(m, path.join(dir, 'flat'), { labels: ['a', 'b', 'c'] });
  session = await Session.open({ workers: 1 });
});

afterAll(async () => {
  await session?.close();
});

/** Pixels of exactly this colour in an RGB buffer, within a region. */
function count(rgb: Uint8Array, width: number, color: number[], x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if ([0, 1, 2].every((c) => rgb[(y * width + x) * 3 + c] === color[c])) n++;
  return n;
}

describe('the legend has a title', () => {
  it('the map\'s quantity, class and patch', async () => {
    const { mapTitle } = await legend();
    const { GLYPHS } = (await import('../dist/render/font.js')) as { GLYPHS: Record<string, string[]> };
    expect(mapTitle({ class: 'red', mode: 'prob', patch: 32 })).toBe('P(red), patch 32');
    expect(mapTitle({ class: 'red', mode: 'drop', patch: 32 })).toBe('drop in P(red), patch 32');
    for (let c = 0x20; c < 0x7f; c++) expect(GLYPHS[String.fromCharCode(c)], String.fromCharCode(c)).toHaveLength(7);
  });

  it('is drawn above the colour bar, at the top right', async () => {
    const { mapTitle } = await legend();
    const r = await session.occlude(FRAME, { class: 'red', patch: 64, stride: 32 });
    const image = await session.decode(FRAME);
    const o = { colormap: 'afmhot' as const, alpha: 0.6, range: { lo: 0, hi: 1 } };
    const plain = drawOverlay(image, r.map, o);
    const titled = drawOverlay(image, r.map, { ...o, title: mapTitle(r) });
    const top = 8 + 7 + 6 + 3; // margin + glyph + padding: the title's band
    expect(count(titled, r.width, [255, 255, 255], r.width - 110, 8, r.width, top)).toBeGreaterThan(40); // its letters
    expect(count(plain, r.width, [255, 255, 255], r.width - 110, 8, r.width, top)).toBeLessThan(count(titled, r.width, [255, 255, 255], r.width - 110, 8, r.width, top));
    expect(Buffer.compare(Buffer.from(plain.subarray(0, r.width * 3 * 8)), Buffer.from(titled.subarray(0, r.width * 3 * 8)))).toBe(0); // above the margin: untouched
  });
});

describe('a map without contrast says so', () => {
  it('text and JSON, for a map that spans a few millionths', async () => {
    const j = await runCli([FRAME, '--model', flat, ...FAST, '-o', path.join(dir, 'flat.png'), '--json']);
    expect(j.code).toBe(0);
    const r = JSON.parse(j.out);
    expect(r.lowContrast).toBe(true);
    expect(r.contrast).toBeGreaterThan(0);
    expect(r.contrast).toBeLessThan(1e-4);
    const t = await runCli([FRAME, '--model', flat, ...FAST, '-o', path.join(dir, 'flat.png')]);
    expect(t.out).toMatch(new RegExp(`\\n  no contrast: no region changes P\\(${r.class}\\) by more than 0\\.01%; the map's colours show no evidence\\n`));
    expect(t.out).toMatch(/\n {2}map \(overlay\): P\(\w\) per pixel, the mean over the patches that cover it: [\d.]+% to [\d.]+%; the minimum above is a single patch\n/);
  });

  it('a map with contrast does not', async () => {
    const j = await runCli([FRAME, ...FAST, '--class', 'red', '-o', path.join(dir, 'red.png'), '--json']);
    const r = JSON.parse(j.out);
    expect(r.lowContrast).toBe(false);
    expect(r.contrast).toBeGreaterThan(0.9);
    const t = await runCli([FRAME, ...FAST, '--class', 'red', '-o', path.join(dir, 'red.png')]);
    expect(t.out).not.toContain('no contrast');
    expect(t.out).toContain('  map (overlay): P(red) per pixel, the mean over the patches that cover it: 5.59% to 99.40%; the minimum above is a single patch\n');
  });

  it('the overlay carries the note (and the one with contrast does not)', async () => {
    const yellow = async (file: string) => {
      const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
      return count(data, info.width, NOTE_COLOR, 0, Math.floor(info.height / 2), Math.floor(info.width * 0.8), info.height);
    };
    expect(await yellow(path.join(dir, 'flat.png'))).toBeGreaterThan(100);
    expect(await yellow(path.join(dir, 'red.png'))).toBe(0);
  });

  it('the summary and the report page mark such images', async () => {
    const { contrastNote } = await legend();
    expect(contrastNote(0.0000041, 'green')).toBe('no region changes P(green) by more than 0.01%');
    expect(contrastNote(0, 'green')).toBe('no region changes P(green) at all');
    expect(contrastNote(0.02, 'green')).toBeNull();
    const row = { image: 'a.jpg', output: 'a.occlusion.png', predicted: 'green', probability: 1, class: 'green', classProbability: 1, minProbability: 0.999996, minPatch: { left: 0, top: 0, width: 8, height: 8 }, seconds: 1, error: null, contrast: 0.0000041 };
    expect(summaryCsv([row]).split('\n')[0]).toMatch(/,error,contrast$/);
    const [e] = entriesFromSummary([row, { ...row, contrast: 0.5 }], path.join(dir, 'index.html'), dir);
    expect(e.lowContrast).toBe('no region changes P(green) by more than 0.01%');
    expect(entriesFromSummary([{ ...row, contrast: 0.5 }], path.join(dir, 'index.html'), dir)[0].lowContrast).toBeNull();
    // rows of runs before this field existed are not marked
    const { contrast: _c, ...old } = row;
    expect(entriesFromSummary([old], path.join(dir, 'index.html'), dir)[0].lowContrast).toBeNull();
  });
});

describe('the review image labels its two halves', () => {
  it('predicted class on the left, true class on the right, each over its own map and legend', async () => {
    const { mapTitle, contrastNote, contrastOf } = await legend();
    const left = await session.occlude(FRAME, { class: 'red', patch: 64, stride: 32 });
    const right = await session.occlude(FRAME, { class: 'none', patch: 64, stride: 32 });
    const file = path.join(dir, 'review.png');
    await saveSideBySide(file, FRAME, left, right);
    const image = await session.decode(FRAME);
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(455 * 2 + 8);
    const half = (x0: number) => {
      const out = new Uint8Array(455 * 256 * 3);
      for (let y = 0; y < 256; y++) out.set(data.subarray((y * info.width + x0) * 3, (y * info.width + x0 + 455) * 3), y * 455 * 3);
      return out;
    };
    // the label is the only difference from the overlay of that map: white letters at the top left
    for (const [x0, r] of [[0, left], [455 + 8, right]] as const) {
      const h = half(x0);
      const { min, max } = mapRange(r.map);
      const bare = drawOverlay(image, r.map, { colormap: 'afmhot', alpha: 0.6, range: { lo: min, hi: max }, title: mapTitle(r), note: contrastNote(contrastOf(r), r.class) });
      let changed = 0;
      let outside = 0;
      for (let y = 0; y < 256; y++) for (let x = 0; x < 455; x++) {
        const k = (y * 455 + x) * 3;
        if (h[k] === bare[k] && h[k + 1] === bare[k + 1] && h[k + 2] === bare[k + 2]) continue;
        if (x < 120 && y < 30) changed++;
        else outside++;
      }
      expect(outside).toBe(0);
      expect(changed).toBeGreaterThan(300);
      expect(count(h, 455, [255, 255, 255], 0, 0, 120, 30)).toBeGreaterThan(40);
    }
  });
});
