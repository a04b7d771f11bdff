import type { OcclusionResult } from '../occlude.js';
import { encodePng, writeFileAtomic } from '../image/encode.js';
import { mapRange } from '../heatmap/accumulate.js';
import { renderOverlay } from './overlay.js';
import { mapTitle, contrastOf, contrastNote } from './legend.js';
import { renderSettings, type RangeSpec, type RenderOptions } from '../options.js';

export type { RenderOptions };

export function resolveRange(map: Float32Array, range: RangeSpec): { lo: number; hi: number } {
  if (range !== 'auto') return { lo: range[0], hi: range[1] };
  const { min, max } = mapRange(map);
  return { lo: min, hi: max };
}

/** Render the overlay PNG of a result and write it atomically. Returns the scale used. */
export async function saveOverlay(file: string, result: OcclusionResult, o: RenderOptions = {}): Promise<{ lo: number; hi: number }> {
  const s = renderSettings(o);
  const range = resolveRange(result.map, s.range);
  const rgb = renderOverlay(result.pixels, result.map, {
    colormap: s.colormap,
    alpha: s.alpha,
    range,
    boxes: result.iterations?.map((p) => p.minPatch),
    legend: s.legend,
    title: mapTitle(result),
    note: contrastNote(contrastOf(result), result.class),
  });
  await writeFileAtomic(file, await encodePng(rgb, result.width, result.height));
  return range;
}
