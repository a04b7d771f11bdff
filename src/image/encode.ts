/** PNG encoding: the overlays (RGB) and 16-bit heat-map files (with tEXt chunks). */
import zlib from 'node:zlib';
import sharp from 'sharp';

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
