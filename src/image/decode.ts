import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { OccludeError, runtimeError, usageError, messageOf } from '../errors.js';

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Decode an image file (anything sharp reads) to 8-bit RGB, honouring EXIF
 * orientation. The pixel buffer lives in a SharedArrayBuffer so that inference
 * workers can read it without copies.
 */
export async function readImage(file: string, opts: { maxPixels?: number } = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let input: Buffer;
  try {
    input = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw runtimeError(`${file}: no such file`, file, err);
    if (code === 'EISDIR') throw usageError(`${file}: is a folder, not an image`, file);
    if (code === 'EACCES') throw runtimeError(`${file}: permission denied`, file, err);
    throw runtimeError(`${file}: cannot read (${messageOf(err)})`, file, err);
  }
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
