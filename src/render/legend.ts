import { mapRange } from '../heatmap/accumulate.js';

/**
 * What a heat-map shows, in words: the legend's title, and whether the map has any contrast at all.
 * With the automatic colour range, a map whose values differ by a few thousandths of a percent gets the
 * full colour scale and looks like strong evidence; below LOW_CONTRAST the outputs say it has none.
 */
export const LOW_CONTRAST = 0.01; // one percentage point

export interface MapFacts {
  map: Float32Array;
  /** target class */
  class: string;
  mode: 'prob' | 'drop';
  patch: number;
  /** unoccluded probability of the class */
  probability: number;
  /** the lowest probability over single patch positions */
  minProbability: number;
}

/** The legend's title: the map's quantity and class, e.g. `P(red), patch 32` or `drop in P(red), patch 32`. */
export function mapTitle(r: Pick<MapFacts, 'class' | 'mode' | 'patch'>): string {
  return `${r.mode === 'drop' ? 'drop in ' : ''}P(${r.class}), patch ${r.patch}`;
}

/**
 * The map's total contrast, in probability: the span of its values (the per-pixel means the overlay shows),
 * or the largest drop a single patch causes when that is more.
 */
export function contrastOf(r: Pick<MapFacts, 'map' | 'probability' | 'minProbability'>): number {
  const { min, max } = mapRange(r.map);
  return Math.max(max - min, r.probability - r.minProbability, 0);
}

/** For a map without contrast: `no region changes P(green) by more than 0.01%` (rounded up); null otherwise. */
export function contrastNote(contrast: number | null, cls: string | null): string | null {
  if (contrast === null || !(contrast < LOW_CONTRAST)) return null;
  const what = `P(${cls ?? 'the class'})`;
  return contrast === 0 ? `no region changes ${what} at all` : `no region changes ${what} by more than ${(Math.ceil(contrast * 1e4) / 100).toFixed(2)}%`;
}
