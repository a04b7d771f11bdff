import { describe, expect, it } from 'vitest';
import { colormapLut, lutIndex, COLORMAPS } from '../dist/render/colormap.js';
import { drawOverlay, scaleLabels } from '../dist/render/overlay.js';
import { formatTick } from '../dist/render/font.js';

const rgb = (lut: Uint8Array, i: number) => [lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]];
const luma = (c: number[]) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

describe('colormaps', () => {
  it('afmhot runs black -> red -> yellow -> white like matplotlib', () => {
    const l = colormapLut('afmhot');
    expect(rgb(l, 0)).toEqual([0, 0, 0]);
    expect(rgb(l, 255)).toEqual([255, 255, 255]);
    expect(rgb(l, 128)).toEqual([255, 129, 1]); // x = 128/255: r = 2x clipped, g = 2x - .5, b = 2x - 1
  });

  it('jet starts dark blue and ends dark red', () => {
    const l = colormapLut('jet');
    expect(rgb(l, 0)).toEqual([0, 0, 128]);
    expect(rgb(l, 255)).toEqual([128, 0, 0]);
  });

  it('viridis and inferno have the published end colours', () => {
    expect(rgb(colormapLut('viridis'), 0)).toEqual([0x44, 0x01, 0x54]);
    expect(rgb(colormapLut('viridis'), 255)).toEqual([0xfd, 0xe7, 0x25]);
    expect(rgb(colormapLut('inferno'), 0)).toEqual([0, 0, 4]);
    expect(rgb(colormapLut('inferno'), 255)).toEqual([0xfc, 0xff, 0xa4]);
  });

  it('viridis and inferno are matplotlib\'s 256-entry tables (entries 64, 128, 192)', () => {
    expect([64, 128, 192].map((i) => rgb(colormapLut('viridis'), i))).toEqual([[59, 82, 139], [33, 145, 140], [94, 201, 98]]);
    expect([64, 128, 192].map((i) => rgb(colormapLut('inferno'), i))).toEqual([[87, 16, 110], [188, 55, 84], [249, 142, 9]]);
  });

  it('sequential maps grow in lightness', () => {
    for (const name of ['afmhot', 'viridis', 'inferno', 'gray'] as const) {
      const l = colormapLut(name);
      for (let i = 8; i < 256; i += 8) expect(luma(rgb(l, i))).toBeGreaterThanOrEqual(luma(rgb(l, i - 8)));
    }
  });

  it('every listed colormap builds a 256-entry table', () => {
    for (const name of COLORMAPS) expect(colormapLut(name).length).toBe(768);
  });

  it('clamps values outside the scale', () => {
    expect(lutIndex(-1, 0, 1)).toBe(0);
    expect(lutIndex(2, 0, 1)).toBe(255);
    expect(lutIndex(0.5, 0, 1)).toBe(128);
    expect(lutIndex(0.5, 1, 1)).toBe(0); // a flat map
  });
});

describe('overlay and legend', () => {
  it('blends at alpha and draws a colour bar inside the image', () => {
    const w = 200;
    const h = 120;
    const image = { width: w, height: h, data: new Uint8Array(w * h * 3).fill(100) };
    const map = new Float32Array(w * h).fill(1);
    const out = drawOverlay(image, map, { colormap: 'gray', alpha: 0.5, range: { lo: 0, hi: 1 } });
    expect(out.length).toBe(w * h * 3);
    expect(out[0]).toBe(Math.round(0.5 * 100 + 0.5 * 255)); // top-left: blended, no legend there
    // the colour bar's top (hi) is brighter than its bottom (lo) on the right edge
    const distinct = (x: number) => new Set([...Array(h).keys()].map((y) => out[(y * w + x) * 3])).size;
    const best = Math.max(...[...Array(w / 2).keys()].map((k) => distinct(w / 2 + k)));
    expect(best).toBeGreaterThan(50); // a vertical gradient: the bar
    expect(distinct(10)).toBe(1); // the left half is plain blended image
  });

  it('labels the scale with enough digits to tell the ends apart', () => {
    const [hi, mid, lo] = scaleLabels(0.99999, 1);
    expect(new Set([hi, mid, lo]).size).toBe(3);
    expect(formatTick(0.5)).toBe('0.5');
    expect(formatTick(1)).toBe('1');
  });
});
