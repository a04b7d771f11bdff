import sharp from 'sharp';
import { OccludeError, runtimeError, messageOf, invalidParameter } from '../errors.js';
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

/** Decoded pixels as an app holds them (from a video decoder, a canvas, a camera): row-major, 1 (grey), 3 (RGB) or 4 (RGBA) bytes per pixel. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  /** bytes per pixel; default: data.length / (width * height) */
  channels?: 1 | 3 | 4;
}

/** An image: a file path, the bytes of an image file (JPEG, PNG, WebP, TIFF... in a Buffer), or decoded pixels. */
export type ImageInput = string | Uint8Array | RawImage;

/** How messages and results name an image: its path, or the name given, or `<buffer>` / `<pixels>`. */
export function imageName(input: ImageInput, name?: string): string {
  if (typeof input === 'string') return input;
  return name ?? (input instanceof Uint8Array ? '<buffer>' : '<pixels>');
}

/**
 * Decode an image to 8-bit RGB, honouring EXIF orientation. The pixel buffer lives in a
 * SharedArrayBuffer so that inference workers can read it without copies. `name` names the image in
 * messages (default: imageName()).
 */
export async function decodeImage(input: ImageInput, opts: { maxPixels?: number; name?: string } = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULTS.maxPixels;
  const name = imageName(input, opts.name);
  if (typeof input === 'string') return decodeBytes(await readRegularFile(input, imageByteLimit(maxPixels)), name, maxPixels);
  if (input instanceof Uint8Array) {
    const limit = imageByteLimit(maxPixels);
    if (input.length > limit.maxBytes) throw runtimeError(`${name}: ${input.length} bytes, over the limit of ${limit.maxBytes} bytes${limit.why}`);
    return decodeBytes(Buffer.from(input.buffer, input.byteOffset, input.byteLength), name, maxPixels);
  }
  return fromPixels(input, name, maxPixels);
}

/** Read an image file (see decodeImage). */
export async function readImage(file: string, opts: { maxPixels?: number } = {}): Promise<RgbImage> {
  return decodeImage(file, opts);
}

function overLimit(name: string, width: number, height: number, maxPixels: number): OccludeError {
  return runtimeError(`${name}: image is ${width}x${height} (${width * height} pixels), over the limit of ${maxPixels} pixels; raise it with --max-pixels`, name);
}

async function decodeBytes(input: Buffer, file: string, maxPixels: number): Promise<RgbImage> {
  if (input.length === 0) throw runtimeError(`${file}: empty file, not an image`, file);
  try {
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    if (!meta.width || !meta.height) throw runtimeError(`${file}: not an image`, file);
    if (meta.width * meta.height > maxPixels) throw overLimit(file, meta.width, meta.height, maxPixels);
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

/** Decoded pixels (1, 3 or 4 channels) as 8-bit RGB in shared memory. */
function fromPixels(p: RawImage, name: string, maxPixels: number): RgbImage {
  const { width, height, data } = p;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw invalidParameter(`${name} size`, 'positive integer width and height', `${width}x${height}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw invalidParameter(`${name} data`, 'Uint8Array of pixels', typeof data);
  const channels = p.channels ?? data.length / (width * height);
  if (![1, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw invalidParameter(`${name} data`, `${width * height} pixels of 1, 3 or 4 bytes`, `${data.length} bytes`);
  }
  if (width * height > maxPixels) throw overLimit(name, width, height, maxPixels);
  // decoded already (by decodeImage): used as it is
  if (channels === 3 && data instanceof Uint8Array && data.buffer instanceof SharedArrayBuffer) return { width, height, data };
  const rgb = new Uint8Array(new SharedArrayBuffer(width * height * 3));
  if (channels === 3) rgb.set(data);
  else {
    for (let i = 0, j = 0; i < width * height; i++, j += channels) {
      rgb[i * 3] = data[j];
      rgb[i * 3 + 1] = data[channels === 1 ? j : j + 1];
      rgb[i * 3 + 2] = data[channels === 1 ? j : j + 2];
    }
  }
  return { width, height, data: rgb };
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
