/**
 * Colormaps as 256-entry RGB lookup tables. afmhot, jet and gray follow matplotlib's segment
 * definitions; viridis and inferno are matplotlib's published 256-entry tables (colormap-data.ts).
 */
import { VIRIDIS, INFERNO } from './colormap-data.js';

export type ColormapName = 'afmhot' | 'viridis' | 'inferno' | 'jet' | 'gray';
export const COLORMAPS: readonly ColormapName[] = ['afmhot', 'viridis', 'inferno', 'jet', 'gray'];

type Segments = [number, number][]; // (x, value) knots, x ascending from 0 to 1

/** The maps given by segments (x, value) per channel; the others are listed entry by entry. */
const DEFINITIONS: Record<Exclude<ColormapName, 'viridis' | 'inferno'>, [Segments, Segments, Segments]> = {
  // matplotlib gist_heat-like 'afmhot': r = 2x, g = 2x - 0.5, b = 2x - 1, clipped
  afmhot: [
    [[0, 0], [0.5, 1], [1, 1]],
    [[0, 0], [0.25, 0], [0.75, 1], [1, 1]],
    [[0, 0], [0.5, 0], [1, 1]],
  ],
  jet: [
    [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
    [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
    [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
  ],
  gray: [
    [[0, 0], [1, 1]],
    [[0, 0], [1, 1]],
    [[0, 0], [1, 1]],
  ],
};

/** 256 RGB entries in [0, 1], one after another. */
const LISTED: Record<'viridis' | 'inferno', readonly number[]> = { viridis: VIRIDIS, inferno: INFERNO };

function interp(seg: Segments, x: number): number {
  for (let i = 1; i < seg.length; i++) {
    const [x1, v1] = seg[i];
    if (x <= x1) {
      const [x0, v0] = seg[i - 1];
      return x1 === x0 ? v1 : v0 + ((v1 - v0) * (x - x0)) / (x1 - x0);
    }
  }
  return seg[seg.length - 1][1];
}

const cache = new Map<ColormapName, Uint8Array>();

/** 256 x RGB lookup table. */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = cache.get(name);
  if (lut) return lut;
  const listed = name === 'viridis' || name === 'inferno' ? LISTED[name] : null;
  const def = listed ? null : DEFINITIONS[name as keyof typeof DEFINITIONS];
  if (!listed && !def) throw new Error(`unknown colormap ${name}`);
  lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(Math.min(1, Math.max(0, listed ? listed[i * 3 + c] : interp(def![c], i / 255))) * 255);
  }
  cache.set(name, lut);
  return lut;
}

/** Map a value to a LUT index, given the scale [lo, hi] (values outside are clamped). */
export function lutIndex(v: number, lo: number, hi: number): number {
  if (!(hi > lo)) return 0;
  const t = (v - lo) / (hi - lo);
  return Math.max(0, Math.min(255, Math.round(t * 255)));
}
