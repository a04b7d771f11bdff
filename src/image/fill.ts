/** What fills the patches (--fill) for one image: a colour, the image's mean colour, or a blurred copy of it. */
import sharp from 'sharp';
import { parseFill, type FillSpec } from '../options.js';
import type { Fill } from './preprocess.js';
import type { RgbImage } from './decode.js';

export async function resolveFill(spec: FillSpec, image: RgbImage): Promise<Fill> {
  const p = parseFill(spec);
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
