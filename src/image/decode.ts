import sharp from 'sharp';
import { OccludeError, runtimeError, messageOf } from '../errors.js';
import { readRegularFile, type ReadLimit } from '../files.js';
import { DEFAULTS } from '../options.js';

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Metadata an image file may carry beside its pixels (EXIF, ICC profile, XMP, thumbnails). */
const METADATA_BYTES = 16 * 1024 ** 2;

/**
 * The largest image file read for a pixel limit: 16 bytes per pixel (32-bit float RGBA, uncompressed: the
 * most an image format stores per pixel) plus 16 MiB of metadata. A larger file is refused before it is read.
 */
export function imageByteLimit(maxPixels: number): ReadLimit {
  return { maxBytes: maxPixels * 16 + METADATA_BYTES, why: ` for --max-pixels ${maxPixels} (16 bytes per pixel + 16 MiB); raise it with --max-pixels` };
}

/**
 * Decode an image file (anything sharp reads) to 8-bit RGB, honouring EXIF
 * orientation. The pixel buffer lives in a SharedArrayBuffer so that inference
 * workers can read it without copies.
 */
export async function readImage(file: string, opts: { maxPixels?: number } = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULTS.maxPixels;
  const input = await readRegularFile(file, imageByteLimit(maxPixels));
  if (input.length === 0) throw runtimeError(`${file}: empty file, not an image`, file);
  try {
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    if (!meta.width || !meta.height) throw runtimeError(`${file}: not an image`, file);
    const pixels = meta.width * meta.height;
    if (pixels > maxPixels) {
      throw runtimeError(
        `${file}: image is ${meta.width}x${meta.height} (${pixels} pixels), over the limit of ${maxPixels} pixels; raise it with --max-pixels`,
        file,
      );
    }
    const { data, info } = await sharp(input, { limitInputPixels: false, failOn: 'error' })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw runtimeError(`${file}: decoded to ${info.channels} channels, expected 3`, file);
    const shared = new Uint8Array(new SharedArrayBuffer(data.length));
    shared.set(data);
    return { width: info.width, height: info.height, data: shared };
  } catch (err) {
    if (err instanceof OccludeError) throw err;
    throw runtimeError(`${file}: not a readable image (${firstLine(messageOf(err))})`, file, err);
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
