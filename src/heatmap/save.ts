import path from 'node:path';
import { encodeGray16Png } from '../image/encode.js';
import { writeFileAtomic } from '../files.js';
import { usageError } from '../errors.js';
import { mapRange } from './accumulate.js';

export const MAP_FORMATS = ['.f32', '.json', '.png'] as const;

/**
 * --save-map: the raw heat-map of a result (or any map with its size), by the file's extension:
 *  .f32  float32 little-endian, row-major, height x width (the layout of ../shared/dashcam/reference)
 *  .json {width, height, data}
 *  .png  16-bit greyscale, 0..65535 spanning [min, max]; the range is in tEXt chunks occlude:min / occlude:max
 */
export async function saveMap(file: string, result: { map: Float32Array; width: number; height: number }): Promise<void> {
  const { map, width, height } = result;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.f32') {
    const le = Buffer.alloc(map.length * 4);
    for (let i = 0; i < map.length; i++) le.writeFloatLE(map[i], i * 4);
    await writeFileAtomic(file, le);
  } else if (ext === '.json') {
    await writeFileAtomic(file, JSON.stringify({ width, height, data: Array.from(map) }));
  } else if (ext === '.png') {
    const { min, max } = mapRange(map);
    const span = max - min;
    const q = new Uint16Array(map.length);
    for (let i = 0; i < map.length; i++) q[i] = span > 0 ? Math.round(((map[i] - min) / span) * 65535) : 0;
    const png = await encodeGray16Png(q, width, height, { 'occlude:min': String(min), 'occlude:max': String(max) });
    await writeFileAtomic(file, png);
  } else {
    throw usageError(`${file}: unknown heat-map format "${ext}"; use .f32, .json or .png`, file);
  }
}

export function checkMapPath(file: string): void {
  const ext = path.extname(file).toLowerCase();
  if (!(MAP_FORMATS as readonly string[]).includes(ext)) {
    throw usageError(`--save-map ${file}: unknown heat-map format "${ext}"; use .f32, .json or .png`, file);
  }
}
