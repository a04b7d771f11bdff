/**
 * How numbers read in every output (text, check lines, review, predict; the report page's script
 * follows the same rule): one formatter, so that the same probability reads the same everywhere.
 */

/** A probability as a percentage: two decimals, or four where two would round it to 100.00% or 0.00%. */
export function percent(p: number): string {
  return (p * 100).toFixed(p > 0.9999 || p < 0.0001 ? 4 : 2) + '%';
}
