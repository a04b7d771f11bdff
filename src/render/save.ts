import type { OcclusionResult } from '../occlude.js';
import { encodePng, writeFileAtomic } from '../image/encode.js';
import { mapRange } from '../heatmap/accumulate.js';
import { renderOverlay } from './overlay.js';
import { mapTitle, contrastOf, contrastNote } from './legend.js';
import type { ColormapName } from './colormap.js';
import { invalidParameter } from '../errors.js';

export interface RenderOptions {
  colormap?: ColormapName;
  alpha?: number;
  /** 'auto' (the map's min and max) or [lo, hi] */
  range?: 'auto' | [number, number];
  legend?: boolean;
}

export const RENDER_DEFAULTS = { colormap: 'afmhot' as ColormapName, alpha: 0.6, range: 'auto' as const };

export function parseRange(text: string): 'auto' | [number, number] {
  if (text === 'auto') return 'auto';
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v)) || !(parts[1] > parts[0])) {
    throw invalidParameter('range', 'auto or LO,HI with LO < HI', text);
  }
  return [parts[0], parts[1]];
}

export function resolveRange(map: Float32Array, range: 'auto' | [number, number]): { lo: number; hi: number } {
  if (range !== 'auto') return { lo: range[0], hi: range[1] };
  const { min, max } = mapRange(map);
  return { lo: min, hi: max };
}

/** Render the overlay PNG of a result and write it atomically. Returns the scale used. */
export async function saveOverlay(file: string, result: OcclusionResult, o: RenderOptions = {}): Promise<{ lo: number; hi: number }> {
  const range = resolveRange(result.map, o.range ?? RENDER_DEFAULTS.range);
  const rgb = renderOverlay(result.pixels, result.map, {
    colormap: o.colormap ?? RENDER_DEFAULTS.colormap,
    alpha: o.alpha ?? RENDER_DEFAULTS.alpha,
    range,
    boxes: result.iterations?.map((p) => p.minPatch),
    legend: o.legend,
    title: mapTitle(result),
    note: contrastNote(contrastOf(result), result.class),
  });
  await writeFileAtomic(file, await encodePng(rgb, result.width, result.height));
  return range;
}
