/**
 * Colormaps as 256-entry RGB lookup tables. afmhot and jet follow matplotlib's
 * segment definitions; viridis and inferno are piecewise-linear through eleven
 * evenly spaced stops of the published maps (visually indistinguishable at 8 bits).
 */
export type ColormapName = 'afmhot' | 'viridis' | 'inferno' | 'jet' | 'gray';
export const COLORMAPS: readonly ColormapName[] = ['afmhot', 'viridis', 'inferno', 'jet', 'gray'];

type Segments = [number, number][]; // (x, value) knots, x ascending from 0 to 1

function hexStops(hex: string[]): [Segments, Segments, Segments] {
  const n = hex.length - 1;
  const ch = (k: number): Segments => hex.map((h, i) => [i / n, parseInt(h.slice(1 + 2 * k, 3 + 2 * k), 16) / 255]);
  return [ch(0), ch(1), ch(2)];
}

const DEFINITIONS: Record<ColormapName, [Segments, Segments, Segments]> = {
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
  viridis: hexStops(['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725']),
  inferno: hexStops(['#000004', '#160b39', '#420a68', '#6a176e', '#932667', '#bc3754', '#dd513a', '#f37819', '#fca50a', '#f6d746', '#fcffa4']),
};

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
  const def = DEFINITIONS[name];
  if (!def) throw new Error(`unknown colormap ${name}`);
  lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(Math.min(1, Math.max(0, interp(def[c], i / 255))) * 255);
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
