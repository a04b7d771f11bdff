/** The rendering functions of the API: a result's overlay over its image, as PNG bytes or a file. */
import type { OcclusionResult } from '../result.js';
import { encodePng } from '../image/encode.js';
import { writeFileAtomic } from '../files.js';
import { decodeImage, type ImageInput, type RgbImage } from '../image/decode.js';
import { mapRange } from '../heatmap/accumulate.js';
import { usageError } from '../errors.js';
import { drawOverlay } from './overlay.js';
import { mapTitle, contrastOf, contrastNote } from './legend.js';
import { renderSettings, type RangeSpec, type RenderOptions } from '../options.js';

export type { RenderOptions };

export function resolveRange(map: Float32Array, range: RangeSpec): { lo: number; hi: number } {
  if (range !== 'auto') return { lo: range[0], hi: range[1] };
  const { min, max } = mapRange(map);
  return { lo: min, hi: max };
}

/** The image a result was computed on, decoded; it must have the result's size. */
export async function imageOf(result: OcclusionResult, image: ImageInput): Promise<RgbImage> {
  const rgb = await decodeImage(image, { name: result.image });
  if (rgb.width !== result.width || rgb.height !== result.height) {
    throw usageError(`${result.image}: the image is ${rgb.width}x${rgb.height}, the result's map ${result.width}x${result.height}: render a result over the image it was computed on`);
  }
  return rgb;
}

/** A result's map over its image as RGB bytes: the colours, the numbered boxes of --iterate, the titled legend, a note when the map has no contrast. */
export function overlayRgb(result: OcclusionResult, image: RgbImage, o: RenderOptions = {}): { rgb: Uint8Array; range: { lo: number; hi: number } } {
  const s = renderSettings(o);
  const range = resolveRange(result.map, s.range);
  const rgb = drawOverlay(image, result.map, {
    colormap: s.colormap,
    alpha: s.alpha,
    range,
    boxes: result.iterations?.map((p) => p.minPatch),
    legend: s.legend,
    title: mapTitle(result),
    note: contrastNote(contrastOf(result), result.class),
  });
  return { rgb, range };
}

/** The overlay PNG of a result over its image (a path, the image file's bytes, or pixels), as bytes. */
export async function renderOverlay(result: OcclusionResult, image: ImageInput, o: RenderOptions = {}): Promise<Buffer> {
  const { rgb } = overlayRgb(result, await imageOf(result, image), o);
  return encodePng(rgb, result.width, result.height);
}

/** Render the overlay PNG of a result over its image and write it atomically. Returns the scale used. */
export async function saveOverlay(file: string, result: OcclusionResult, image: ImageInput, o: RenderOptions = {}): Promise<{ lo: number; hi: number }> {
  const { rgb, range } = overlayRgb(result, await imageOf(result, image), o);
  await writeFileAtomic(file, await encodePng(rgb, result.width, result.height));
  return range;
}
