import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { runtimeError, fsReason } from '../errors.js';

/**
 * Write a file atomically: to a temporary file beside the target, then rename,
 * so that a reader (or an interrupted run) never sees a half-written output.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw runtimeError(`cannot write ${file}: ${fsReason(err)}`, file, err);
  }
}

/**
 * `mkdir -p`, failing with the reason. On a read-only mount node's recursive mkdir reports ENOENT,
 * so the nearest existing folder is asked whether it can be written to.
 */
export async function makeFolder(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    const cause = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ((await whyNoFolder(dir)) ?? err) : err;
    throw runtimeError(`cannot create ${dir}: ${fsReason(cause)}`, dir, cause);
  }
}

/** Why `dir` cannot be created below its nearest existing ancestor, or null when that ancestor is writable. */
async function whyNoFolder(dir: string): Promise<unknown> {
  for (let p = path.dirname(path.resolve(dir)); ; p = path.dirname(p)) {
    const st = await fs.stat(p).catch(() => null);
    if (st) {
      if (!st.isDirectory()) return Object.assign(new Error(`${p} is not a folder`), { code: 'ENOTDIR' });
      return fs.access(p, fsc.W_OK).then(() => null, (e: unknown) => e);
    }
    if (p === path.dirname(p)) return null;
  }
}

export async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/** 16-bit greyscale PNG; `text` entries become tEXt chunks (e.g. the value range the grey levels span). */
export async function encodeGray16Png(values: Uint16Array, width: number, height: number, text: Record<string, string> = {}): Promise<Buffer> {
  const png = await sharp(values, { raw: { width, height, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  return insertTextChunks(png, text);
}

/** Insert tEXt chunks right after IHDR. */
export function insertTextChunks(png: Buffer, text: Record<string, string>): Buffer {
  const entries = Object.entries(text);
  if (!entries.length) return png;
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4; // signature + IHDR header, data, crc
  const chunks = entries.map(([k, v]) => {
    const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(v, 'latin1')]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length - 4);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  });
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** Read the tEXt chunks of a PNG. */
export function readTextChunks(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 8;
  while (off + 8 <= png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    if (type === 'tEXt') {
      const body = png.subarray(off + 8, off + 8 + len);
      const nul = body.indexOf(0);
      out[body.toString('latin1', 0, nul)] = body.toString('latin1', nul + 1);
    }
    if (type === 'IEND') break;
    off += 12 + len;
  }
  return out;
}
