import sharp from 'sharp';
import { invalidParameter } from '../errors.js';
import type { Fill } from './preprocess.js';
import type { RgbImage } from './decode.js';

/** --fill: a number in [0,1] (grey), a hex colour, "mean" (the image's mean colour) or "blur" (a strongly blurred copy). */
export type FillSpec = number | string;

export function parseFillSpec(spec: FillSpec): { kind: 'constant'; rgb: [number, number, number] } | { kind: 'mean' } | { kind: 'blur' } {
  if (typeof spec === 'number' || /^\s*[0-9.]+\s*$/.test(spec)) {
    const v = typeof spec === 'number' ? spec : Number(spec);
    if (!Number.isFinite(v) || v < 0 || v > 1) throw invalidParameter('fill', 'number between 0 and 1, hex colour, mean or blur', spec);
    return { kind: 'constant', rgb: [v, v, v] };
  }
  const s = spec.trim().toLowerCase();
  if (s === 'mean' || s === 'blur') return { kind: s };
  if (s === 'grey' || s === 'gray') return { kind: 'constant', rgb: [0.5, 0.5, 0.5] };
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/.exec(s);
  if (m) {
    const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
    return { kind: 'constant', rgb: [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255) as [number, number, number] };
  }
  throw invalidParameter('fill', 'number between 0 and 1, hex colour, mean or blur', spec);
}

export function describeFill(spec: FillSpec): string {
  const p = parseFillSpec(spec);
  return p.kind === 'constant' ? (p.rgb[0] === p.rgb[1] && p.rgb[1] === p.rgb[2] ? String(+p.rgb[0].toFixed(4)) : '#' + p.rgb.map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('')) : p.kind;
}

export async function resolveFill(spec: FillSpec, image: RgbImage): Promise<Fill> {
  const p = parseFillSpec(spec);
  if (p.kind === 'constant') return p;
  if (p.kind === 'mean') {
    const sum = [0, 0, 0];
    for (let i = 0; i < image.data.length; i += 3) {
      sum[0] += image.data[i];
      sum[1] += image.data[i + 1];
      sum[2] += image.data[i + 2];
    }
    const n = image.width * image.height * 255;
    return { kind: 'constant', rgb: [sum[0] / n, sum[1] / n, sum[2] / n] };
  }
  const sigma = Math.max(2, Math.min(image.width, image.height) / 10);
  const blurred = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .blur(sigma)
    .raw()
    .toBuffer();
  const data = new Uint8Array(new SharedArrayBuffer(blurred.length));
  data.set(blurred);
  return { kind: 'image', data };
}
