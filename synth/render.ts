/**
 * Rasterise a scene with sharp and apply camera effects (rescale, blur, motion
 * blur, sensor noise, JPEG). Deterministic: all randomness comes from the Rng.
 */
import sharp from 'sharp';
import { Rng } from './rng.js';
import { buildScene, drawCameraLook, unlitSvg, type Scene, type SceneOptions } from './scene.js';

export interface Frame {
  jpeg: Buffer;
  scene: Scene;
  /** per light of the frame's class, in scene.lights order: see lampVisibility */
  visibility: number[];
}

export async function renderScene(scene: Scene, width: number, height: number, rng: Rng): Promise<Buffer> {
  const p = scene.post;
  let raw = await sharp(Buffer.from(scene.svg)).removeAlpha().raw().toBuffer();
  if (p.rescale < 1) {
    const w = Math.max(8, Math.round(width * p.rescale));
    const h = Math.max(8, Math.round(height * p.rescale));
    const small = await sharp(raw, { raw: { width, height, channels: 3 } }).resize(w, h, { kernel: 'linear' }).raw().toBuffer();
    raw = await sharp(small, { raw: { width: w, height: h, channels: 3 } }).resize(width, height, { kernel: 'linear' }).raw().toBuffer();
  }
  if (p.blur >= 0.3 || p.motion > 1) {
    let img = sharp(raw, { raw: { width, height, channels: 3 } });
    if (p.blur >= 0.3) img = img.blur(p.blur);
    if (p.motion > 1) {
      const n = p.motion * 2 + 1;
      const horizontal = rng.chance(0.5);
      const kernel = new Array<number>(n * n).fill(0);
      for (let j = 0; j < n; j++) kernel[horizontal ? p.motion * n + j : j * n + p.motion] = 1;
      img = img.convolve({ width: n, height: n, kernel });
    }
    raw = await img.raw().toBuffer();
  }
  // sensor noise: luminance + a little chroma
  const sd = p.noise;
  if (sd > 0) {
    const out = Buffer.from(raw);
    for (let i = 0; i < out.length; i += 3) {
      const l = rng.normal() * sd;
      for (let ch = 0; ch < 3; ch++) {
        const v = raw[i + ch]! + l + rng.normal() * sd * 0.35;
        out[i + ch] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
    raw = out;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: p.quality, chromaSubsampling: '4:2:0' }).toBuffer();
}

/**
 * How much each lit light's lamp shows in the finished frame: the frame is rendered a second
 * time with the lit lamps removed (same scene, same camera effects and noise), and for each
 * light of the frame's class this is the mean of the 4 largest per-pixel differences in the
 * lamp's colour signal (red: R - (G+B)/2, green: G - R), 0-255, within the light's box grown by
 * 3 px. Under blur, haze, glare and JPEG a far lamp can all but vanish, and a support drawn
 * over it once hid it completely; this measures it (the manifest's `visibility`).
 */
export async function lampVisibility(scene: Scene, jpeg: Buffer, width: number, height: number, rng: Rng): Promise<number[]> {
  if (scene.cls === 'none') return [];
  const dark = await renderScene({ ...scene, svg: unlitSvg(scene.svg) }, width, height, rng);
  const [a, b] = await Promise.all([jpeg, dark].map((j) => sharp(j).removeAlpha().raw().toBuffer()));
  const sig = (p: Buffer, i: number): number =>
    scene.cls === 'red' ? p[i]! - (p[i + 1]! + p[i + 2]!) / 2 : p[i + 1]! - p[i]!;
  return scene.lights
    .filter((l) => l.state === scene.cls)
    .map((l) => {
      const top: number[] = [0, 0, 0, 0];
      for (let y = Math.max(0, l.top - 3); y < Math.min(height, l.top + l.height + 3); y++) {
        for (let x = Math.max(0, l.left - 3); x < Math.min(width, l.left + l.width + 3); x++) {
          const i = (y * width + x) * 3;
          const d = sig(a!, i) - sig(b!, i);
          if (d > top[3]!) {
            top[3] = d;
            top.sort((u, v) => v - u);
          }
        }
      }
      return (top[0]! + top[1]! + top[2]! + top[3]!) / 4;
    });
}

/**
 * Generate one frame: fully determined by (seed, index, options). `cameraLooks`: draw the frame's
 * camera look (drawCameraLook, from its own Rng) unless options give one; the fixtures go without.
 * `bonnet`: the bonnet and the lamps' reflections in it (drawBonnet in scene.ts, from its own Rng).
 */
export async function generateFrame(seed: number, index: number, opts: SceneOptions, cameraLooks = false, bonnet = false): Promise<Frame> {
  const rng = new Rng(seed, index);
  const look = opts.look ?? (cameraLooks ? drawCameraLook(new Rng(seed, index, 0x10c4)) : undefined);
  const scene = buildScene(rng, { ...opts, look, bonnet: opts.bonnet ?? (bonnet ? new Rng(seed, index, 0xb0e7) : undefined) });
  const jpeg = await renderScene(scene, opts.width, opts.height, new Rng(seed, index, 0x5eed));
  const visibility = await lampVisibility(scene, jpeg, opts.width, opts.height, new Rng(seed, index, 0x5eed));
  return { jpeg, scene, visibility };
}
