/**
 * Procedural dash-cam scene generator: builds an SVG of a street scene seen from
 * a car (sky, road, lane markings, buildings, trees, poles, mast arms, cars,
 * street lamps, signs, lit signs, traffic lights) plus its ground truth.
 * Rasterisation and camera effects live in render.ts.
 */
import { Rng } from './rng.js';

export type FrameClass = 'none' | 'red' | 'green';
export type TimeOfDay = 'day' | 'dusk' | 'night';
export type LightState = 'red' | 'green' | 'back' | 'side';

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface LightInfo extends Box {
  state: LightState;
  orientation: 'vertical' | 'horizontal';
}

export interface SceneOptions {
  width: number;
  height: number;
  /** Force the frame class. */
  cls?: FrameClass;
  time?: TimeOfDay;
  /** Number of lights facing the driver (ignored for class none). */
  facing?: number;
  /** Range of the long side of facing lights, in px at 256 px frame height. */
  lightSize?: [number, number];
  orientation?: 'vertical' | 'horizontal';
  /** Put a lit parking sign lamp next to a facing light (or in the frame for class none). */
  parkingSign?: boolean;
  /** Lights not facing the driver (back / side views): false = none, a number = exactly that many. Default random. */
  otherLights?: boolean | number;
  /**
   * How the frame's camera renders lit signal lamps (see CameraLook). Absent: the plain look, and
   * the scene is the same bytes as before looks existed (the fixtures use it).
   */
  look?: CameraLook;
  /**
   * Draw the car's bonnet in the lower frame with the lit lamps mirrored in it, and sometimes
   * coloured blobs that mirror nothing in view (drawBonnet), all from this Rng. Absent: the scene
   * is the same bytes as before the option existed.
   */
  bonnet?: Rng;
}

/**
 * What a real camera does to a lit signal lamp, which the plain drawing does not: the lamp is far
 * brighter than the scene, so its centre clips to white and only a rim or halo keeps its colour;
 * on some sensors red comes out orange or even yellow (one test-lot camera's red lamps are pale
 * yellow, hue 40-60 degrees) and green comes out cyan and nearly white. One look per frame (one
 * camera), drawn by drawCameraLook from its own Rng, so that drawing it changes no other part of
 * the scene. `rng` draws the per-lamp variation.
 */
export interface CameraLook {
  rng: Rng;
  /** added to a red lamp's hue, degrees (0 = plain; up to 50: orange to pale yellow) */
  redHue: number;
  /** added to a green lamp's hue, degrees (towards cyan) */
  greenHue: number;
  /** 0-1: how far the lamp's disc clips to white (its whole disc, not only a small core) */
  blow: number;
  /** 0-1: saturation taken out of the lamp's colour (the halo keeps more of it) */
  desat: number;
  /** multiplier of the bloom's radius */
  halo: number;
}

/** The look of a frame's camera (synth --looks): half the frames plain, half with a clipping, hue-shifting camera. */
export function drawCameraLook(rng: Rng): CameraLook | undefined {
  if (rng.chance(0.5)) return undefined;
  const hueShift = rng.chance(0.5);
  return {
    rng,
    redHue: hueShift ? rng.range(5, 50) : rng.range(0, 12),
    greenHue: hueShift ? rng.range(5, 25) : rng.range(0, 8),
    blow: rng.range(0.3, 1),
    desat: rng.range(0, 0.85),
    halo: rng.range(0.8, 1.8),
  };
}

export interface PostFx {
  blur: number;
  motion: number;
  noise: number;
  quality: number;
  rescale: number;
}

export interface Scene {
  svg: string;
  cls: FrameClass;
  time: TimeOfDay;
  lights: LightInfo[];
  post: PostFx;
  /** the camera look of lit lamps (undefined: plain) */
  look?: CameraLook;
}

type RGB = [number, number, number];

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
const f2 = (v: number): string => (Math.round(v * 100) / 100).toString();

function hex(c: RGB): string {
  const h = (v: number): string => clamp(Math.round(v), 0, 255).toString(16).padStart(2, '0');
  return `#${h(c[0])}${h(c[1])}${h(c[2])}`;
}

function mix(a: RGB, b: RGB, t: number): RGB {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function hsl(h: number, s: number, l: number): RGB {
  h = ((h % 360) + 360) % 360;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] =
    h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

interface Item {
  z: number;
  svg: string;
}

/** Drawing context: camera, lighting and collected SVG. */
class Ctx {
  readonly defs: string[] = [];
  readonly items: Item[] = [];
  private gid = 0;
  /** multiplier applied to reflected (unlit) colours */
  amb: RGB = [1, 1, 1];
  /** the camera's look of lit lamps (undefined: plain) */
  look: CameraLook | undefined = undefined;
  constructor(
    readonly rng: Rng,
    readonly W: number,
    readonly H: number,
    /** focal length, px */
    readonly f: number,
    /** horizon y, px */
    readonly yh: number,
    /** vanishing point x, px */
    readonly xv: number,
    readonly camH: number,
    readonly time: TimeOfDay,
  ) {}

  shade(c: RGB): string {
    return hex([c[0] * this.amb[0], c[1] * this.amb[1], c[2] * this.amb[2]]);
  }
  px(X: number, Z: number): number {
    return this.xv + (this.f * X) / Z;
  }
  py(Y: number, Z: number): number {
    return this.yh - (this.f * (Y - this.camH)) / Z;
  }
  /** metres to px at distance Z */
  s(m: number, Z: number): number {
    return (this.f * m) / Z;
  }
  add(z: number, svg: string): void {
    this.items.push({ z, svg });
  }
  glow(color: RGB, opacity: number, falloff = 0.35): string {
    const id = `g${this.gid++}`;
    this.defs.push(
      `<radialGradient id="${id}"><stop offset="0" stop-color="${hex(color)}" stop-opacity="${f2(opacity)}"/>` +
        `<stop offset="${f2(falloff)}" stop-color="${hex(color)}" stop-opacity="${f2(opacity * 0.45)}"/>` +
        `<stop offset="1" stop-color="${hex(color)}" stop-opacity="0"/></radialGradient>`,
    );
    return `url(#${id})`;
  }
  linear(stops: [number, RGB, number][], x1 = 0, y1 = 0, x2 = 0, y2 = 1): string {
    const id = `l${this.gid++}`;
    this.defs.push(
      `<linearGradient id="${id}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}">` +
        stops.map(([o, c, a]) => `<stop offset="${f2(o)}" stop-color="${hex(c)}" stop-opacity="${f2(a)}"/>`).join('') +
        `</linearGradient>`,
    );
    return `url(#${id})`;
  }
}

const poly = (pts: [number, number][], fill: string, extra = ''): string =>
  `<polygon points="${pts.map(([x, y]) => `${f2(x)},${f2(y)}`).join(' ')}" fill="${fill}"${extra}/>`;
const rect = (x: number, y: number, w: number, h: number, fill: string, extra = ''): string =>
  `<rect x="${f2(x)}" y="${f2(y)}" width="${f2(Math.max(w, 0))}" height="${f2(Math.max(h, 0))}" fill="${fill}"${extra}/>`;
const circle = (x: number, y: number, r: number, fill: string, extra = ''): string =>
  `<circle cx="${f2(x)}" cy="${f2(y)}" r="${f2(Math.max(r, 0))}" fill="${fill}"${extra}/>`;
const line = (x1: number, y1: number, x2: number, y2: number, stroke: string, w: number, extra = ''): string =>
  `<line x1="${f2(x1)}" y1="${f2(y1)}" x2="${f2(x2)}" y2="${f2(y2)}" stroke="${stroke}" stroke-width="${f2(Math.max(w, 0.3))}"${extra}/>`;

// ---------------------------------------------------------------------------
// background

function drawSky(c: Ctx): void {
  const { rng, W, H, time } = c;
  let top: RGB;
  let hor: RGB;
  if (time === 'day') {
    const overcast = rng.chance(0.3);
    top = overcast ? hsl(210, rng.range(0.05, 0.2), rng.range(0.55, 0.8)) : hsl(rng.range(200, 225), rng.range(0.4, 0.75), rng.range(0.4, 0.65));
    hor = mix(top, [235, 238, 242], rng.range(0.4, 0.85));
  } else if (time === 'dusk') {
    top = hsl(rng.range(210, 260), rng.range(0.3, 0.6), rng.range(0.15, 0.4));
    hor = hsl(rng.range(10, 45), rng.range(0.5, 0.9), rng.range(0.5, 0.72));
  } else {
    top = hsl(rng.range(210, 240), rng.range(0.2, 0.6), rng.range(0.01, 0.06));
    hor = rng.chance(0.5) ? hsl(rng.range(20, 40), rng.range(0.2, 0.5), rng.range(0.08, 0.2)) : hsl(230, 0.3, rng.range(0.05, 0.14));
  }
  const g = c.linear([
    [0, top, 1],
    [1, hor, 1],
  ]);
  c.add(1e9, rect(0, 0, W, c.yh + 2, g));
  // clouds
  if (time !== 'night' && rng.chance(0.7)) {
    const n = rng.int(2, 9);
    let s = '';
    const col: RGB = time === 'day' ? [rng.range(215, 250), rng.range(218, 250), rng.range(225, 252)] : hsl(rng.range(0, 40), 0.5, rng.range(0.5, 0.7));
    const dark: RGB = mix(col, [110, 115, 125], rng.range(0.2, 0.6));
    for (let i = 0; i < n; i++) {
      const cx = rng.range(-50, W + 50);
      const cy = rng.range(-20, c.yh * 0.8);
      const rx = rng.range(30, 140) * (H / 256);
      const ry = rx * rng.range(0.25, 0.5);
      s += `<ellipse cx="${f2(cx)}" cy="${f2(cy)}" rx="${f2(rx)}" ry="${f2(ry)}" fill="${hex(mix(col, dark, rng.next()))}" opacity="${f2(rng.range(0.4, 0.95))}"/>`;
    }
    c.defs.push(`<filter id="cloudblur" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="${f2(rng.range(4, 10) * (H / 256))}"/></filter>`);
    c.add(9e8, `<g filter="url(#cloudblur)">${s}</g>`);
  }
  // far skyline / hills / trees at the horizon
  const hazeBase: RGB = time === 'night' ? [14, 14, 20] : mix(hor, [70, 80, 90], rng.range(0.3, 0.7));
  let s = '';
  let x = -10;
  while (x < W + 10) {
    const w = rng.range(6, 40) * (H / 256);
    const h = rng.chance(0.3) ? rng.range(1, 6) : rng.range(3, 30) * (H / 256) * rng.next();
    s += rect(x, c.yh - h, w + 1, h + 2, hex(mix(hazeBase, hor, rng.range(0, 0.3))));
    if (time !== 'day' && h > 6 && rng.chance(0.5)) {
      for (let k = 0; k < 4; k++) s += rect(x + rng.range(0, w), c.yh - rng.range(0, h), 1, 1, hex([255, 220, 150]), ` opacity="${f2(rng.range(0.3, 0.9))}"`);
    }
    x += w;
  }
  c.add(8e8, s);
}

function drawRoad(c: Ctx, roadL: number, roadR: number, lanes: number[]): void {
  const { rng, time } = c;
  const far = 4000;
  const near = 0.6;
  const asphalt: RGB = time === 'day' ? [rng.range(80, 130), 0, 0] : [rng.range(70, 110), 0, 0];
  asphalt[1] = asphalt[0] * rng.range(0.97, 1.02);
  asphalt[2] = asphalt[0] * rng.range(0.97, 1.06);
  const farCol = mix(asphalt, [150, 150, 155], 0.3);
  const g = c.linear([
    [0, [farCol[0] * c.amb[0], farCol[1] * c.amb[1], farCol[2] * c.amb[2]], 1],
    [1, [asphalt[0] * c.amb[0], asphalt[1] * c.amb[1], asphalt[2] * c.amb[2]], 1],
  ]);
  // ground (sidewalk + verge) everywhere below horizon
  const side: RGB = rng.chance(0.5) ? [rng.range(120, 165), rng.range(118, 160), rng.range(110, 150)] : [rng.range(70, 100), rng.range(90, 120), rng.range(50, 70)];
  let s = rect(0, c.yh - 1, c.W, c.H - c.yh + 2, c.shade(side));
  const sideW = rng.range(2.5, 5);
  // curbs
  s += poly(
    [
      [c.px(roadL - sideW, near), c.py(0, near)],
      [c.px(roadL - sideW, far), c.py(0, far)],
      [c.px(roadR + sideW, far), c.py(0, far)],
      [c.px(roadR + sideW, near), c.py(0, near)],
    ],
    c.shade(mix(side, [160, 160, 160], 0.5)),
  );
  s += poly(
    [
      [c.px(roadL, near), c.py(0, near)],
      [c.px(roadL, far), c.py(0, far)],
      [c.px(roadR, far), c.py(0, far)],
      [c.px(roadR, near), c.py(0, near)],
    ],
    g,
  );
  // darker wheel tracks / patches
  for (let i = 0; i < rng.int(0, 4); i++) {
    const X = rng.range(roadL, roadR);
    const z0 = rng.range(2, 40);
    const z1 = z0 + rng.range(5, 60);
    const w = rng.range(0.5, 3);
    s += poly(
      [
        [c.px(X, z0), c.py(0, z0)],
        [c.px(X, z1), c.py(0, z1)],
        [c.px(X + w, z1), c.py(0, z1)],
        [c.px(X + w, z0), c.py(0, z0)],
      ],
      c.shade(mix(asphalt, rng.chance(0.5) ? [40, 40, 40] : [170, 170, 170], 0.25)),
      ` opacity="${f2(rng.range(0.3, 0.8))}"`,
    );
  }
  const paint: RGB = rng.chance(0.8) ? [235, 235, 230] : [230, 200, 90];
  const pc = c.shade(mix(paint, asphalt, rng.range(0, 0.5)));
  const seg = (X: number, z0: number, z1: number, w: number, col = pc): string =>
    poly(
      [
        [c.px(X - w / 2, z0), c.py(0, z0)],
        [c.px(X - w / 2, z1), c.py(0, z1)],
        [c.px(X + w / 2, z1), c.py(0, z1)],
        [c.px(X + w / 2, z0), c.py(0, z0)],
      ],
      col,
    );
  // edge lines
  s += seg(roadL + 0.3, near, far, 0.15) + seg(roadR - 0.3, near, far, 0.15);
  const dashLen = rng.range(2, 4);
  const gap = rng.range(4, 9);
  const off = rng.range(0, dashLen + gap);
  for (const X of lanes) {
    if (rng.chance(0.15)) {
      s += seg(X, near, far, 0.15);
      continue;
    }
    for (let z = 1 + off; z < 250; z += dashLen + gap) s += seg(X, z, z + dashLen, 0.14);
  }
  // crosswalk / stop line
  if (rng.chance(0.45)) {
    const z0 = rng.range(6, 35);
    const depth = rng.range(2.5, 4);
    for (let X = roadL + 0.5; X < roadR - 0.5; X += 1.0) {
      s += poly(
        [
          [c.px(X, z0), c.py(0, z0)],
          [c.px(X, z0 + depth), c.py(0, z0 + depth)],
          [c.px(X + 0.5, z0 + depth), c.py(0, z0 + depth)],
          [c.px(X + 0.5, z0), c.py(0, z0)],
        ],
        pc,
      );
    }
  }
  // night: wet-road sheen
  if (time !== 'day' && rng.chance(0.5)) {
    s += rect(0, c.yh, c.W, c.H - c.yh, c.linear([
      [0, [80, 70, 60], 0.0],
      [0.4, [90, 80, 70], 0.25],
      [1, [20, 20, 20], 0],
    ]));
  }
  c.add(7e8, s);
}

// ---------------------------------------------------------------------------
// roadside objects

function drawBuildings(c: Ctx, side: -1 | 1, X0: number): void {
  const { rng, time } = c;
  let z = rng.range(2, 12);
  const baseHue = rng.range(0, 60);
  while (z < 260) {
    const len = rng.range(8, 40);
    const gap = rng.chance(0.3) ? rng.range(4, 20) : 0;
    const X = side * (X0 + rng.range(0, 4));
    const Ht = rng.chance(0.25) ? rng.range(15, 45) : rng.range(4, 16);
    const z1 = z + len;
    const col: RGB = rng.chance(0.6) ? hsl(baseHue + rng.range(-20, 20), rng.range(0.05, 0.35), rng.range(0.35, 0.8)) : hsl(rng.range(0, 360), rng.range(0, 0.2), rng.range(0.2, 0.7));
    const sideCol = c.shade(mix(col, [0, 0, 0], rng.range(0.05, 0.35)));
    const frontCol = c.shade(col);
    let s = '';
    // front face (facing the camera), visible if gap before building
    const depth = rng.range(10, 25);
    s += poly(
      [
        [c.px(X, z), c.py(Ht, z)],
        [c.px(X + side * depth, z), c.py(Ht, z)],
        [c.px(X + side * depth, z), c.py(0, z)],
        [c.px(X, z), c.py(0, z)],
      ],
      frontCol,
    );
    // side face along the road
    s += poly(
      [
        [c.px(X, z), c.py(Ht, z)],
        [c.px(X, z1), c.py(Ht, z1)],
        [c.px(X, z1), c.py(0, z1)],
        [c.px(X, z), c.py(0, z)],
      ],
      sideCol,
    );
    // windows
    if (z < 120) {
      const rowH = rng.range(2.8, 3.6);
      const colW = rng.range(2.5, 5);
      const winCol: RGB = rng.chance(0.5) ? [40, 50, 60] : mix(col, [20, 30, 40], 0.6);
      const lit = time === 'night' ? rng.range(0.15, 0.5) : time === 'dusk' ? rng.range(0.05, 0.3) : 0;
      const wFill = c.shade(winCol);
      const stripes = rng.chance(0.3);
      for (let Y = rowH * 0.9; Y < Ht - 1; Y += rowH) {
        if (stripes) {
          const isLit = rng.chance(lit);
          const f = isLit ? hex(mix([255, 200, 120], [255, 255, 255], rng.next() * 0.5)) : wFill;
          s += poly(
            [
              [c.px(X, z + 0.5), c.py(Y + 1.4, z + 0.5)],
              [c.px(X, z1 - 0.5), c.py(Y + 1.4, z1 - 0.5)],
              [c.px(X, z1 - 0.5), c.py(Y, z1 - 0.5)],
              [c.px(X, z + 0.5), c.py(Y, z + 0.5)],
            ],
            f,
            isLit ? ` opacity="0.7"` : '',
          );
          continue;
        }
        for (let zz = z + 1; zz + 1.4 < z1; zz += colW) {
          if (c.s(1.4, zz) < 0.7) break;
          const isLit = rng.chance(lit);
          const f = isLit ? hex(hsl(rng.range(25, 50), rng.range(0.4, 1), rng.range(0.55, 0.8))) : wFill;
          s += poly(
            [
              [c.px(X, zz), c.py(Y + 1.5, zz)],
              [c.px(X, zz + 1.4), c.py(Y + 1.5, zz + 1.4)],
              [c.px(X, zz + 1.4), c.py(Y, zz + 1.4)],
              [c.px(X, zz), c.py(Y, zz)],
            ],
            f,
          );
        }
      }
      // shop fronts at night / neon
      if (time !== 'day' && rng.chance(0.4)) {
        const zz = rng.range(z, z1 - 2);
        const sc = rng.pick<RGB>([
          [255, 60, 60],
          [60, 255, 140],
          [80, 160, 255],
          [255, 200, 60],
          [255, 80, 200],
          [255, 255, 255],
        ]);
        const x0 = c.px(X, zz);
        const x1 = c.px(X, zz + rng.range(1.5, 5));
        const y0 = c.py(rng.range(2.5, 4.5), zz);
        const hh = c.s(rng.range(0.4, 1), zz);
        s += rect(Math.min(x0, x1), y0, Math.abs(x1 - x0), hh, hex(sc));
        s += `<ellipse cx="${f2((x0 + x1) / 2)}" cy="${f2(y0 + hh / 2)}" rx="${f2(Math.abs(x1 - x0))}" ry="${f2(hh * 2.5)}" fill="${c.glow(sc, 0.5)}"/>`;
      }
    }
    c.add(z + 0.01, s);
    z = z1 + gap;
  }
}

function drawTree(c: Ctx, X: number, Z: number): void {
  const { rng, time } = c;
  const trunkH = rng.range(1.5, 4);
  const crownR = rng.range(1.2, 4);
  let s = '';
  const trunk: RGB = [rng.range(50, 90), rng.range(40, 70), rng.range(30, 50)];
  if (rng.chance(0.2)) {
    // palm
    const h = rng.range(6, 14);
    s += line(c.px(X, Z), c.py(0, Z), c.px(X, Z), c.py(h, Z), c.shade(trunk), c.s(0.35, Z));
    const leaf = c.shade(hsl(rng.range(70, 120), rng.range(0.2, 0.5), rng.range(0.15, 0.35)));
    for (let k = 0; k < 8; k++) {
      const a = (k / 8) * Math.PI * 2 + rng.next();
      const L = rng.range(2, 3.5);
      s += `<path d="M${f2(c.px(X, Z))},${f2(c.py(h, Z))} q${f2(c.s(Math.cos(a) * L * 0.6, Z))},${f2(-c.s(0.8, Z))} ${f2(c.s(Math.cos(a) * L, Z))},${f2(c.s(Math.abs(Math.sin(a)) * 1.5 + 0.5, Z))}" stroke="${leaf}" stroke-width="${f2(Math.max(c.s(0.35, Z), 0.5))}" fill="none"/>`;
    }
    c.add(Z, s);
    return;
  }
  s += line(c.px(X, Z), c.py(0, Z), c.px(X, Z), c.py(trunkH + crownR * 0.5, Z), c.shade(trunk), c.s(0.3, Z));
  const hue = rng.range(70, 140);
  const n = rng.int(4, 9);
  for (let k = 0; k < n; k++) {
    const dx = rng.range(-1, 1) * crownR * 0.7;
    const dy = rng.range(-0.6, 0.8) * crownR;
    const r = crownR * rng.range(0.45, 0.8);
    const col = hsl(hue + rng.range(-10, 10), rng.range(0.2, 0.55), rng.range(0.12, 0.35) * (time === 'night' ? 0.5 : 1));
    s += circle(c.px(X + dx, Z), c.py(trunkH + crownR + dy, Z), c.s(r, Z), c.shade(col));
  }
  c.add(Z, s);
}

function drawStreetLamp(c: Ctx, X: number, Z: number, side: number): void {
  const { rng, time } = c;
  const h = rng.range(6, 10);
  const arm = rng.range(1, 3);
  const poleCol = c.shade([rng.range(60, 140), rng.range(60, 140), rng.range(60, 140)]);
  let s = line(c.px(X, Z), c.py(0, Z), c.px(X, Z), c.py(h, Z), poleCol, c.s(0.18, Z));
  const hx = c.px(X - side * arm, Z);
  const hy = c.py(h, Z);
  s += line(c.px(X, Z), hy, hx, hy, poleCol, c.s(0.12, Z));
  const lampW = c.s(0.6, Z);
  const lampH = c.s(0.2, Z);
  const lit = time === 'night' || (time === 'dusk' && rng.chance(0.7));
  const lampCol: RGB = rng.chance(0.5) ? [255, rng.range(150, 200), rng.range(60, 110)] : [rng.range(220, 255), rng.range(235, 255), 255];
  s += `<ellipse cx="${f2(hx)}" cy="${f2(hy + lampH / 2)}" rx="${f2(lampW / 2)}" ry="${f2(lampH / 2 + 0.3)}" fill="${lit ? hex(mix(lampCol, [255, 255, 255], 0.6)) : c.shade([90, 90, 95])}"/>`;
  if (lit) {
    const R = Math.max(c.s(rng.range(0.8, 2.5), Z), 3);
    s += circle(hx, hy + lampH, R, c.glow(lampCol, rng.range(0.5, 0.95)));
  }
  c.add(Z, s);
}

function drawUtilityPole(c: Ctx, X: number, Z: number): [number, number] {
  const { rng } = c;
  const h = rng.range(8, 12);
  const col = c.shade(rng.chance(0.5) ? [90, 70, 50] : [120, 120, 120]);
  let s = line(c.px(X, Z), c.py(0, Z), c.px(X, Z), c.py(h, Z), col, c.s(0.25, Z));
  s += line(c.px(X - 1, Z), c.py(h - 0.5, Z), c.px(X + 1, Z), c.py(h - 0.5, Z), col, c.s(0.12, Z));
  c.add(Z, s);
  return [c.px(X, Z), c.py(h - 0.5, Z)];
}

type SignKind = 'stop' | 'noentry' | 'round' | 'blue' | 'rect-blue' | 'rect-green' | 'yield' | 'parking' | 'speed';

function drawSign(c: Ctx, X: number, Z: number, kind: SignKind, litLamp: RGB | null, poleHeight?: number): Box {
  const { rng } = c;
  const poleH = poleHeight ?? rng.range(1.8, 2.8);
  const size = rng.range(0.6, 0.9);
  const poleCol = c.shade([130, 130, 135]);
  let s = line(c.px(X, Z), c.py(0, Z), c.px(X, Z), c.py(poleH, Z), poleCol, c.s(0.07, Z));
  const cx = c.px(X, Z);
  const cy = c.py(poleH + size / 2, Z);
  const r = c.s(size / 2, Z);
  const white = c.shade([235, 235, 235]);
  const red = c.shade([200, 30, 35]);
  const blue = c.shade([30, 80, 170]);
  switch (kind) {
    case 'stop': {
      const pts: [number, number][] = [];
      for (let k = 0; k < 8; k++) {
        const a = ((k + 0.5) / 8) * Math.PI * 2;
        pts.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
      }
      s += poly(pts, red) + rect(cx - r * 0.6, cy - r * 0.12, r * 1.2, r * 0.24, white);
      break;
    }
    case 'noentry':
      s += circle(cx, cy, r, red) + rect(cx - r * 0.65, cy - r * 0.15, r * 1.3, r * 0.3, white);
      break;
    case 'round':
    case 'speed':
      s += circle(cx, cy, r, red) + circle(cx, cy, r * 0.75, white);
      if (kind === 'speed') s += rect(cx - r * 0.35, cy - r * 0.3, r * 0.7, r * 0.6, c.shade([20, 20, 20]), ' opacity="0.6"');
      break;
    case 'blue':
      s += circle(cx, cy, r, blue) + line(cx - r * 0.4, cy + r * 0.4, cx + r * 0.4, cy - r * 0.4, white, r * 0.25);
      break;
    case 'yield':
      s += poly(
        [
          [cx - r, cy - r * 0.8],
          [cx + r, cy - r * 0.8],
          [cx, cy + r],
        ],
        red,
      ) + poly(
        [
          [cx - r * 0.6, cy - r * 0.55],
          [cx + r * 0.6, cy - r * 0.55],
          [cx, cy + r * 0.5],
        ],
        white,
      );
      break;
    case 'rect-blue':
      s += rect(cx - r, cy - r * 0.7, 2 * r, 1.4 * r, blue) + rect(cx - r * 0.8, cy - r * 0.1, 1.6 * r, 0.2 * r, white);
      break;
    case 'rect-green':
      s += rect(cx - r * 1.6, cy - r * 0.4, 3.2 * r, 0.8 * r, c.shade([20, 110, 60])) + rect(cx - r * 1.2, cy - r * 0.08, 2.4 * r, 0.16 * r, white);
      break;
    case 'parking':
      s += rect(cx - r, cy - r, 2 * r, 2 * r, blue) + `<text x="${f2(cx)}" y="${f2(cy + r * 0.6)}" font-family="sans-serif" font-weight="bold" font-size="${f2(r * 1.7)}" text-anchor="middle" fill="${white}">P</text>`;
      break;
  }
  let box: Box = { left: cx - r, top: cy - r, width: 2 * r, height: 2 * r };
  if (litLamp) {
    // the lamp that lights the sign at night (what the original network mistook for a traffic light)
    const lr = Math.max(r * rng.range(0.25, 0.45), 1.2);
    const ly = cy - r - lr * 1.6;
    s += rect(cx - lr * 1.3, ly - lr * 1.1, lr * 2.6, lr * 2.2, c.shade([30, 30, 30]));
    s += circle(cx, ly, lr, hex(mix(litLamp, [255, 255, 255], 0.5)));
    s += circle(cx, ly, lr * rng.range(2.5, 5), c.glow(litLamp, rng.range(0.5, 0.9)));
    // light spill on the sign
    s += circle(cx, cy, r * 1.1, c.glow(litLamp, 0.35));
    box = { left: cx - r, top: ly - lr * 1.1, width: 2 * r, height: cy + r - (ly - lr * 1.1) };
  }
  c.add(Z - 0.01, s);
  return box;
}

const CAR_COLORS: RGB[] = [
  [235, 235, 235],
  [200, 200, 205],
  [150, 150, 155],
  [40, 40, 45],
  [20, 20, 25],
  [150, 30, 30],
  [30, 50, 110],
  [90, 100, 110],
  [200, 190, 170],
  [60, 80, 60],
];

function drawCar(c: Ctx, X: number, Z: number, oncoming: boolean, braking: boolean): void {
  const { rng, time } = c;
  const bus = rng.chance(0.06);
  const W = bus ? 2.5 : rng.range(1.7, 1.95);
  const H = bus ? 3.2 : rng.range(1.35, 1.75);
  const body = rng.pick(CAR_COLORS);
  const x0 = c.px(X - W / 2, Z);
  const x1 = c.px(X + W / 2, Z);
  const yb = c.py(0.15, Z);
  const yt = c.py(H, Z);
  const w = x1 - x0;
  const h = yb - yt;
  let s = `<ellipse cx="${f2((x0 + x1) / 2)}" cy="${f2(c.py(0, Z))}" rx="${f2(w * 0.58)}" ry="${f2(Math.max(h * 0.08, 0.6))}" fill="#000" opacity="0.55"/>`;
  // wheels
  s += rect(x0 + w * 0.05, yb - h * 0.12, w * 0.16, h * 0.16, '#111') + rect(x1 - w * 0.21, yb - h * 0.12, w * 0.16, h * 0.16, '#111');
  const bodyC = c.shade(body);
  const shadeC = c.shade(mix(body, [0, 0, 0], 0.35));
  if (bus) {
    s += rect(x0, yt, w, h * 0.95, bodyC, ` rx="${f2(w * 0.03)}"`);
    s += rect(x0 + w * 0.05, yt + h * 0.08, w * 0.9, h * 0.3, c.shade([30, 35, 40]));
  } else {
    const cabinTop = yt;
    const beltY = yt + h * rng.range(0.38, 0.5);
    s += poly(
      [
        [x0 + w * 0.14, cabinTop],
        [x1 - w * 0.14, cabinTop],
        [x1 - w * 0.03, beltY],
        [x0 + w * 0.03, beltY],
      ],
      bodyC,
    );
    s += poly(
      [
        [x0 + w * 0.18, cabinTop + h * 0.05],
        [x1 - w * 0.18, cabinTop + h * 0.05],
        [x1 - w * 0.09, beltY - h * 0.02],
        [x0 + w * 0.09, beltY - h * 0.02],
      ],
      oncoming ? c.shade([60, 70, 80]) : c.shade([25, 30, 35]),
    );
    s += rect(x0, beltY, w, yb - beltY - h * 0.05, bodyC, ` rx="${f2(w * 0.05)}"`);
    s += rect(x0, yb - h * 0.2, w, h * 0.16, shadeC);
  }
  // plate
  const plate: RGB = rng.chance(0.5) ? [230, 230, 230] : [230, 200, 60];
  s += rect((x0 + x1) / 2 - w * 0.13, yb - h * 0.34, w * 0.26, h * 0.09, c.shade(plate));
  // lights
  const ly = yb - h * (bus ? 0.25 : 0.52);
  const lw = w * (bus ? 0.08 : 0.17);
  const lh = h * (bus ? 0.12 : 0.11);
  if (oncoming) {
    const on = time !== 'day' || rng.chance(0.3);
    const col: RGB = on ? [255, 250, 230] : [200, 200, 200];
    for (const lx of [x0 + w * 0.04, x1 - w * 0.04 - lw]) {
      s += rect(lx, ly, lw, lh, on ? hex(col) : c.shade(col));
      if (on) s += circle(lx + lw / 2, ly + lh / 2, lw * rng.range(1.2, 3), c.glow(col, 0.8));
    }
  } else {
    const on = time !== 'day' || braking;
    const bright = braking ? 1 : rng.range(0.5, 0.8);
    const tail: RGB = [255, rng.range(10, 70), rng.range(10, 50)];
    for (const lx of [x0 + w * 0.02, x1 - w * 0.02 - lw]) {
      s += rect(lx, ly, lw, lh, on ? hex(mix(tail, [255, 230, 230], braking ? rng.range(0, 0.6) : 0)) : c.shade([150, 20, 25]), ` rx="${f2(lh * 0.3)}"`);
      if (on) s += circle(lx + lw / 2, ly + lh / 2, lw * rng.range(0.9, 2.2), c.glow(tail, 0.8 * bright));
    }
    if (braking && !bus && rng.chance(0.6)) {
      s += rect((x0 + x1) / 2 - w * 0.1, yt + h * 0.02, w * 0.2, Math.max(h * 0.03, 0.6), hex(tail));
    }
  }
  c.add(Z, s);
}

// ---------------------------------------------------------------------------
// traffic lights

interface TLSpec {
  x: number; // housing left, px
  y: number; // housing top, px
  w: number;
  h: number;
  orientation: 'vertical' | 'horizontal';
  state: LightState;
  Z: number;
}

/**
 * Everything a lit traffic-light lamp adds to the frame (the lamp, its bloom, its reflection) is
 * wrapped in these markers, so that `unlitSvg` can draw the same scene with those lamps dark.
 * The renderer compares the two to measure how visible each lit lamp is (lampVisibility in render.ts).
 */
const LIT_OPEN = '<!--lit-->';
const LIT_CLOSE = '<!--/lit-->';
const lit = (svg: string): string => LIT_OPEN + svg + LIT_CLOSE;
const LIT_RE = /<!--lit-->[\s\S]*?<!--\/lit-->/g;

/** The scene's SVG with every lit traffic-light lamp (and its bloom and reflection) removed. */
export function unlitSvg(svg: string): string {
  return svg.replace(LIT_RE, '');
}

function lampColor(rng: Rng, state: 'red' | 'green', look?: CameraLook, desat = 1): RGB {
  const [h, sat, l] = state === 'red' ? [rng.range(-8, 12), rng.range(0.9, 1), rng.range(0.55, 0.68)] : [rng.range(140, 178), rng.range(0.8, 1), rng.range(0.5, 0.66)];
  if (!look) return hsl(h, sat, l);
  // the camera's hue shift varies a little from lamp to lamp; desaturated colours are also lighter
  const shift = (state === 'red' ? look.redHue : look.greenHue) * look.rng.range(0.85, 1.15);
  const d = look.desat * desat;
  return hsl(h + shift, sat * (1 - d), l + (0.92 - l) * d);
}

function drawTrafficLight(c: Ctx, t: TLSpec, plate: boolean, housingCol: RGB): string {
  const { rng, time } = c;
  const { x, y, w, h } = t;
  let s = '';
  const hcol = c.shade(housingCol);
  const long = Math.max(w, h);
  if (plate && t.state !== 'side') {
    const pad = long * 0.08;
    s += rect(x, y, w, h, c.shade([15, 15, 15]), ` rx="${f2(pad)}"`);
    if (rng.chance(0.5)) s += rect(x, y, w, h, 'none', ` rx="${f2(pad)}" stroke="${c.shade(rng.chance(0.5) ? [230, 230, 230] : [230, 200, 40])}" stroke-width="${f2(Math.max(pad * 0.5, 0.4))}"`);
  }
  const inset = plate ? long * 0.08 : 0;
  const hx = x + inset;
  const hy = y + inset;
  const hw = w - 2 * inset;
  const hh = h - 2 * inset;
  s += rect(hx, hy, hw, hh, hcol, ` rx="${f2(Math.min(hw, hh) * 0.2)}"`);
  if (t.state === 'back') {
    s += rect(hx + hw * 0.3, hy + hh * 0.3, hw * 0.4, hh * 0.4, c.shade(mix(housingCol, [0, 0, 0], 0.3)));
    return s;
  }
  if (t.state === 'side') {
    for (let k = 0; k < 3; k++) {
      const cy = hy + (hh * (k + 0.5)) / 3;
      s += poly(
        [
          [hx + hw, cy - hh * 0.14],
          [hx + hw * 1.9, cy - hh * 0.14],
          [hx + hw, cy + hh * 0.05],
        ],
        hcol,
      );
    }
    return s;
  }
  const vertical = t.orientation === 'vertical';
  const short = vertical ? hw : hh;
  const r = short * rng.range(0.3, 0.4);
  const litIndex = t.state === 'red' ? 0 : 2;
  const look = c.look;
  const col = lampColor(rng, t.state, look);
  const night = time === 'night' ? 1 : time === 'dusk' ? 0.6 : 0.15;
  for (let k = 0; k < 3; k++) {
    const cx = vertical ? hx + hw / 2 : hx + (hw * (k + 0.5)) / 3;
    const cy = vertical ? hy + (hh * (k + 0.5)) / 3 : hy + hh / 2;
    if (k === litIndex) {
      // A lit lamp is a light source: on a camera sensor it never images smaller than about
      // 4 px across (lens blur and blooming), however far away the signal is. Smaller, the JPEG's
      // 4:2:0 chroma subsampling washes its colour out and the frame's label becomes a guess.
      // A white-hot core only where the lamp is large enough to keep a coloured rim.
      const coreMix = rng.range(0.1, 0.6) * (0.5 + night * 0.5) * Math.min(1, r / 2.5);
      const rl = Math.max(r, 1.9);
      if (look) {
        // a clipping camera: most of the disc white or nearly, a thin coloured rim (the bloom
        // below keeps the colour around it, also on a lamp of a few pixels)
        const blow = Math.max(coreMix, look.blow * look.rng.range(0.8, 1));
        s += lit(circle(cx, cy, rl, hex(mix(col, [255, 255, 255], blow * 0.5))) + circle(cx, cy, rl * (0.55 + 0.35 * blow), hex(mix(col, [255, 255, 255], blow))));
      } else {
        s += lit(circle(cx, cy, rl, hex(mix(col, [255, 255, 255], coreMix * 0.6))) + circle(cx, cy, rl * 0.55, hex(mix(col, [255, 255, 255], coreMix))));
      }
    } else {
      const dim = mix([30, 30, 30], k === 1 ? [90, 70, 20] : litIndex === 0 ? [20, 70, 50] : [90, 20, 20], rng.range(0, 0.35));
      s += circle(cx, cy, r, c.shade(dim));
    }
    if (long > 24 && rng.chance(0.7)) {
      // visor
      if (vertical) s += `<path d="M${f2(cx - r * 1.15)},${f2(cy)} a${f2(r * 1.15)},${f2(r * 1.15)} 0 0 1 ${f2(r * 2.3)},0" stroke="${hcol}" stroke-width="${f2(r * 0.25)}" fill="none"/>`;
    }
  }
  return s;
}

/** The centre of a lit light's lamp (red: the first of three, green: the third) and the housing's short side. */
function litLamp(t: TLSpec): { cx: number; cy: number; short: number } {
  const vertical = t.orientation === 'vertical';
  const li = t.state === 'red' ? 0 : 2;
  return {
    cx: vertical ? t.x + t.w / 2 : t.x + (t.w * (li + 0.5)) / 3,
    cy: vertical ? t.y + (t.h * (li + 0.5)) / 3 : t.y + t.h / 2,
    short: vertical ? t.w : t.h,
  };
}

function glowFor(c: Ctx, t: TLSpec): string {
  const { rng, time } = c;
  if (t.state !== 'red' && t.state !== 'green') return '';
  const { cx, cy, short } = litLamp(t);
  const look = c.look;
  // the halo keeps more of the lamp's colour than its clipped disc
  const col = lampColor(rng, t.state, look, 0.4);
  const k = (time === 'night' ? rng.range(2.5, 6) : time === 'dusk' ? rng.range(1.8, 3.5) : rng.range(1.0, 1.8)) * (look ? look.halo : 1);
  const a = time === 'night' ? rng.range(0.5, 0.9) : time === 'dusk' ? rng.range(0.45, 0.8) : rng.range(0.4, 0.7);
  // bloom: at least 3.2 px in radius, so that the lamp's colour survives blur and the JPEG's
  // 4:2:0 chroma subsampling even when the signal is only a few pixels wide
  return lit(circle(cx, cy, Math.max(short * 0.4 * k, 3.2), c.glow(col, a, short < 8 ? 0.5 : 0.25)));
}


/**
 * The car's bonnet, seen through the windscreen at the bottom of the frame, on half the frames
 * (the other half get nothing from this function). A real dash-cam behind a windscreen sees each lit
 * lamp a second time there: a dim, soft blob of the lamp's colour on the bonnet, roughly straight
 * below it (the test-lot camera of ../shared/realval shows one under most of its lamps). Drawn here
 * under 80% of the lit lamps; and, so that such a blob is no evidence of the frame's class, on 35%
 * of the frames one or two blobs of a random lamp colour that mirror nothing in view (a lamp above
 * the frame, a brake light) whatever the class. The bonnet's top stays below every light's box, so it
 * never hides a lamp the label counts. Everything is drawn from `rr`, so the rest of the scene is the
 * same as without the bonnet.
 */
function drawBonnet(c: Ctx, rr: Rng, tls: TLSpec[], lights: LightInfo[]): string {
  const { W, H } = c;
  if (rr.chance(0.5)) return '';
  const lowest = lights.reduce((m, l) => Math.max(m, l.top + l.height), 0);
  const top = Math.max(H * rr.range(0.68, 0.9), lowest + 0.02 * H);
  if (top > H * 0.94) return '';
  const g = rr.range(25, 95);
  const tint = rr.range(0.9, 1.15);
  let s = `<path d="M0,${f2(H)} L0,${f2(top + rr.range(0, 0.02) * H)} Q${f2(W / 2)},${f2(top - rr.range(0, 0.03) * H)} ${f2(W)},${f2(top + rr.range(0, 0.02) * H)} L${f2(W)},${f2(H)} Z" fill="${c.shade([g, g, g * tint])}"/>`;
  const look = c.look ? { ...c.look, rng: rr } : undefined;
  const blob = (x: number, r: number, col: RGB): string => {
    const y = top + rr.range(0.01, 0.08) * H + r;
    const ry = r * rr.range(0.45, 0.9);
    return `<ellipse cx="${f2(x)}" cy="${f2(y)}" rx="${f2(r * 2.2)}" ry="${f2(ry * 2.2)}" fill="${c.glow(col, rr.range(0.4, 0.85), 0.3)}"/>` + `<ellipse cx="${f2(x)}" cy="${f2(y)}" rx="${f2(r)}" ry="${f2(ry)}" fill="${hex(mix(col, [255, 255, 255], rr.range(0, 0.4)))}" opacity="${f2(rr.range(0.5, 1))}"/>`;
  };
  for (const t of tls) {
    if ((t.state !== 'red' && t.state !== 'green') || !rr.chance(0.8)) continue;
    const { cx, short } = litLamp(t);
    s += lit(blob(cx + rr.range(-0.015, 0.015) * W, Math.max(short * 0.35 * rr.range(0.6, 1.3), 1.6), lampColor(rr, t.state, look, 0.3)));
  }
  if (rr.chance(0.35)) {
    for (let n = rr.int(1, 2); n > 0; n--) {
      const col = rr.chance(0.4) ? lampColor(rr, 'red', look, 0.3) : rr.chance(0.6) ? lampColor(rr, 'green', look, 0.3) : rr.pick<RGB>([[255, 190, 60], [255, 250, 235]]);
      s += blob(rr.range(0.03, 0.97) * W, (H / 256) * rr.range(1.5, 6), col);
    }
  }
  return s;
}

const camHeight = (c: Ctx): number => c.camH;

// ---------------------------------------------------------------------------

export function buildScene(rng: Rng, opts: SceneOptions): Scene {
  const W = opts.width;
  const H = opts.height;
  const k = H / 256;
  const time: TimeOfDay = opts.time ?? rng.weighted<TimeOfDay>([
    ['day', 0.5],
    ['dusk', 0.22],
    ['night', 0.28],
  ]);
  const cls: FrameClass = opts.cls ?? rng.weighted<FrameClass>([
    ['none', 1],
    ['red', 1],
    ['green', 1],
  ]);
  const f = W * rng.range(0.75, 1.0);
  const yh = H * rng.range(0.4, 0.58);
  const xv = W * rng.range(0.38, 0.62);
  const c = new Ctx(rng, W, H, f, yh, xv, rng.range(1.2, 1.5), time);
  c.look = opts.look;
  if (time === 'day') {
    const e = rng.range(0.75, 1.1);
    c.amb = [e * rng.range(0.95, 1.05), e, e * rng.range(0.95, 1.08)];
  } else if (time === 'dusk') {
    const e = rng.range(0.35, 0.65);
    c.amb = [e * rng.range(1, 1.15), e * 0.95, e * rng.range(0.95, 1.15)];
  } else {
    const e = rng.range(0.08, 0.2);
    c.amb = [e, e * 1.02, e * rng.range(1.05, 1.4)];
  }

  // road layout (camera at X=0, in a lane)
  const nLanes = rng.int(2, 5);
  const lane = 3.5;
  const myLane = rng.int(0, nLanes - 1);
  const roadL = -(myLane + 0.5) * lane - rng.range(0, 1);
  const roadR = roadL + nLanes * lane + rng.range(0, 1.5);
  const lanes: number[] = [];
  for (let i = 1; i < nLanes; i++) lanes.push(roadL + i * lane);

  drawSky(c);
  drawRoad(c, roadL, roadR, lanes);
  const sideW = rng.range(3, 6);
  for (const side of [-1, 1] as const) {
    const edge = side < 0 ? -roadL : roadR;
    if (rng.chance(0.85)) drawBuildings(c, side, edge + sideW);
    const nTrees = rng.chance(0.7) ? rng.int(1, 10) : 0;
    for (let i = 0; i < nTrees; i++) drawTree(c, side * (edge + rng.range(1, sideW + 2)), rng.logRange(4, 150));
    if (rng.chance(0.6)) {
      const sp = rng.range(25, 50);
      let prev: [number, number] | null = null;
      for (let z = rng.range(5, 20); z < 250; z += sp) {
        const p = drawUtilityPole(c, side * (edge + sideW * 0.8), z);
        if (prev && rng.chance(0.9)) {
          const col = c.shade([40, 40, 40]);
          for (let wi = 0; wi < 2; wi++)
            c.add(z + 0.02, `<path d="M${f2(prev[0])},${f2(prev[1] + wi * 2)} Q${f2((prev[0] + p[0]) / 2)},${f2((prev[1] + p[1]) / 2 + 6 * k)} ${f2(p[0])},${f2(p[1] + wi * 2)}" stroke="${col}" stroke-width="0.6" fill="none"/>`);
        }
        prev = p;
      }
    }
    if (rng.chance(0.6)) {
      const sp = rng.range(20, 45);
      for (let z = rng.range(6, 25); z < 200; z += sp) drawStreetLamp(c, side * (edge + 0.6), z, side);
    }
  }
  // plain signs
  const nSigns = rng.int(0, 4);
  const kinds: SignKind[] = ['stop', 'noentry', 'round', 'blue', 'rect-blue', 'rect-green', 'yield', 'parking', 'speed'];
  for (let i = 0; i < nSigns; i++) {
    const side = rng.chance(0.5) ? -1 : 1;
    const edge = side < 0 ? -roadL : roadR;
    const lamp = time !== 'day' && rng.chance(0.25) ? rng.pick<RGB>([[255, 240, 200], [120, 255, 160], [255, 90, 70], [180, 220, 255]]) : null;
    drawSign(c, side * (edge + rng.range(0.3, 2)), rng.logRange(5, 60), rng.pick(kinds), lamp);
  }
  // cars
  const nCars = rng.chance(0.15) ? 0 : rng.int(1, 7);
  const braking = rng.chance(0.4);
  for (let i = 0; i < nCars; i++) {
    const ln = rng.int(0, nLanes - 1);
    const X = roadL + (ln + 0.5) * lane + rng.range(-0.4, 0.4);
    const oncoming = ln < myLane - 0 && rng.chance(0.5);
    drawCar(c, X, rng.logRange(5, 120), oncoming, braking && rng.chance(0.8));
  }

  // traffic lights
  const lights: LightInfo[] = [];
  const tls: TLSpec[] = [];
  const housingCol: RGB = rng.weighted<RGB>([
    [[25, 25, 25], 4],
    [[55, 55, 55], 2],
    [[50, 60, 45], 1],
    [[200, 165, 30], 1],
  ]);
  const plate = rng.chance(0.35);
  const occupied: Box[] = [];
  const overlaps = (b: Box, m: number): boolean =>
    occupied.some((o) => b.left < o.left + o.width + m && o.left < b.left + b.width + m && b.top < o.top + o.height + m && o.top < b.top + b.height + m);

  const tryPlace = (state: LightState, orientation: 'vertical' | 'horizontal', long: number, Zhint?: number): TLSpec | null => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const ratio = rng.range(0.34, 0.42);
      const lw = orientation === 'vertical' ? Math.max(long * ratio, 2) : long;
      const lh = orientation === 'vertical' ? long : Math.max(long * ratio, 2);
      const wpx = state === 'side' ? lw * 0.45 : lw;
      const physLong = 1.0;
      const Z = Zhint ?? (f * physLong) / (long / k) / k;
      // mount height in metres; big lights are lower (pole-mounted) so they stay in frame
      const mount = rng.chance(0.6) ? rng.range(4.5, 6.5) : rng.range(2.4, 4);
      let yTop = c.py(mount, Z) - lh / 2;
      const X = rng.chance(0.7) ? rng.range(roadL - 1, roadR + 1) : rng.pick([roadL - rng.range(0.5, 3), roadR + rng.range(0.5, 3)]);
      let xLeft = c.px(X, Z) - wpx / 2;
      if (yTop < 2) yTop = rng.range(2, Math.max(3, yh * 0.5));
      if (yTop + lh > yh + 4 * k) continue;
      if (xLeft < 2 || xLeft + wpx > W - 2) xLeft = rng.range(2, W - 2 - wpx);
      const box = { left: xLeft, top: yTop, width: wpx, height: lh };
      if (overlaps(box, Math.max(3, long * 0.3))) continue;
      occupied.push(box);
      return { x: xLeft, y: yTop, w: wpx, h: lh, orientation, state, Z };
    }
    return null;
  };

  const [minL, maxL] = opts.lightSize ?? [6, 60];
  const sampleLong = (orientation: 'vertical' | 'horizontal'): number => {
    const lo = orientation === 'horizontal' ? Math.max(minL, 14) : minL;
    const hi = Math.max(lo, maxL);
    const v = rng.chance(0.4) ? rng.logRange(lo, Math.min(hi, Math.max(lo + 1, 30))) : rng.logRange(lo, hi);
    return v * k;
  };

  if (cls !== 'none') {
    const nFacing = opts.facing ?? rng.weighted<number>([
      [1, 0.42],
      [2, 0.32],
      [3, 0.16],
      [4, 0.1],
    ]);
    const orientation = opts.orientation ?? (rng.chance(0.2) ? 'horizontal' : 'vertical');
    // lights of one installation share their distance; some are at another
    const base = sampleLong(orientation);
    for (let i = 0; i < nFacing; i++) {
      const long = i === 0 || rng.chance(0.6) ? base * rng.range(0.9, 1.1) : sampleLong(orientation);
      const l = Math.max(long, minL * k);
      const t = tryPlace(cls, orientation, l);
      if (t) tls.push(t);
    }
    if (tls.length === 0) {
      // guarantee at least one facing light
      const l = Math.max(base, minL * k);
      const lw = orientation === 'vertical' ? l * 0.38 : l;
      const lh = orientation === 'vertical' ? l : l * 0.38;
      tls.push({ x: rng.range(2, W - 2 - lw), y: rng.range(2, Math.max(3, yh - lh)), w: lw, h: lh, orientation, state: cls, Z: (f * 1.0) / (l / k) / k });
    }
  }
  if (opts.otherLights !== false) {
    const nOther = typeof opts.otherLights === 'number' ? opts.otherLights : rng.chance(0.35) ? rng.int(1, 3) : 0;
    for (let i = 0; i < nOther; i++) {
      const orientation = rng.chance(0.2) ? 'horizontal' : 'vertical';
      const t = tryPlace(rng.chance(0.5) ? 'back' : 'side', orientation, sampleLong(orientation));
      if (t) tls.push(t);
    }
  }
  const parkingBoxes: Box[] = [];
  const wantParking = opts.parkingSign ?? (time !== 'day' ? rng.chance(0.25) : rng.chance(0.08));
  if (wantParking) {
    // a parking sign with its lit lamp, near a real light when there is one
    const lamp = rng.pick<RGB>([
      [120, 255, 170],
      [90, 255, 120],
      [255, 250, 220],
      [255, 120, 80],
      [140, 255, 230],
    ]);
    const ref = tls.find((t) => t.state === 'red' || t.state === 'green');
    const side = rng.chance(0.5) ? -1 : 1;
    const edge = side < 0 ? -roadL : roadR;
    if (opts.parkingSign === true && ref) {
      // forced (fixtures): the lit sign stands right next to the real light, at about its height
      const dir = ref.x + ref.w / 2 < W / 2 ? 1 : -1;
      const gapPx = Math.max(ref.w, ref.h * 0.4) * rng.range(1.5, 3);
      const targetX = clamp(ref.x + ref.w / 2 + dir * (ref.w / 2 + gapPx), 8, W - 8);
      const X = ((targetX - xv) * ref.Z) / f;
      const mountY = camHeight(c) + ((yh - (ref.y + ref.h * 0.6)) * ref.Z) / f;
      parkingBoxes.push(drawSign(c, X, ref.Z * 0.98, 'parking', lamp, Math.max(mountY - 0.4, 1.5)));
    } else {
      const Z = ref ? clamp(ref.Z * rng.range(0.8, 1.2), 4, 80) : rng.logRange(5, 40);
      parkingBoxes.push(drawSign(c, side * (edge + rng.range(0.3, 1.5)), Z, 'parking', lamp));
    }
  }

  // draw lights and their supports
  for (const t of tls) {
    const poleCol = c.shade([rng.range(40, 110), rng.range(40, 110), rng.range(40, 110)]);
    const cx = t.x + t.w / 2;
    const gy = c.py(0, t.Z);
    let sup = '';
    const thick = Math.max(c.s(0.2, t.Z), 0.8);
    if (rng.chance(0.55)) {
      // mast arm from a roadside pole
      const poleX = rng.chance(0.5) ? c.px(roadR + 0.7, t.Z) : c.px(roadL - 0.7, t.Z);
      const armY = t.y - thick * 0.5;
      sup += line(poleX, armY, cx, armY, poleCol, thick * 0.7);
      sup += line(poleX, armY - thick, poleX, Math.max(gy, armY), poleCol, thick * 1.2);
      sup += line(cx, armY, cx, t.y + 0.5, poleCol, thick * 0.5);
    } else {
      sup += line(cx, t.y + t.h - 0.5, cx, Math.max(gy, t.y + t.h), poleCol, thick);
    }
    // Poles and mast arms of all lights are drawn before any light: a nearer light's arm may
    // cross a farther light, and drawn over it, it hid the lit lamp of a frame labelled red.
    const depth = t.Z / (1 + t.Z);
    c.add(0.5 + 0.5 * depth, sup);
    let s = drawTrafficLight(c, t, plate, housingCol);
    s += glowFor(c, t);
    // reflection on a wet road at night
    if (time !== 'day' && (t.state === 'red' || t.state === 'green') && rng.chance(0.3)) {
      const col = lampColor(rng, t.state, c.look, 0.4);
      const ry = gy + (gy - t.y) * 0.3;
      if (ry < H) s += lit(`<ellipse cx="${f2(cx)}" cy="${f2(ry)}" rx="${f2(t.w * 0.8)}" ry="${f2(t.h * 1.2)}" fill="${c.glow(col, 0.3)}"/>`);
    }
    // drawn above all scenery (a light hidden behind a tree would be a wrong label) and all supports
    c.add(0.5 * depth, s);
    const L = Math.floor(t.x);
    const T = Math.floor(t.y);
    lights.push({
      left: L,
      top: T,
      width: Math.ceil(t.x + t.w) - L,
      height: Math.ceil(t.y + t.h) - T,
      state: t.state,
      orientation: t.orientation,
    });
  }

  // near layer: dashboard, windshield reflections, glare
  let near = '';
  if (rng.chance(0.4)) {
    const top = H * rng.range(0.86, 0.97);
    const col = c.shade([rng.range(20, 45), rng.range(20, 45), rng.range(20, 45)]);
    near += `<path d="M0,${f2(H)} L0,${f2(top + rng.range(0, 8) * k)} Q${f2(W / 2)},${f2(top - rng.range(0, 12) * k)} ${f2(W)},${f2(top + rng.range(0, 8) * k)} L${f2(W)},${f2(H)} Z" fill="${col}"/>`;
  }
  if (rng.chance(0.3)) {
    const x0 = rng.range(0, W * 0.7);
    near += poly(
      [
        [x0, H],
        [x0 + W * rng.range(0.1, 0.3), H * rng.range(0.5, 0.8)],
        [x0 + W * rng.range(0.3, 0.5), H * rng.range(0.5, 0.8)],
        [x0 + W * rng.range(0.3, 0.6), H],
      ],
      '#dde4ea',
      ` opacity="${f2(rng.range(0.05, 0.25))}"`,
    );
  }
  if (time === 'day' && rng.chance(0.35)) {
    const sx = rng.range(-W * 0.2, W * 1.2);
    const sy = rng.range(-H * 0.2, yh * 0.7);
    near += circle(sx, sy, H * rng.range(0.3, 0.9), c.glow([255, 250, 235], rng.range(0.4, 0.9), 0.15));
    if (rng.chance(0.5)) near += circle(W - sx, H - sy, H * rng.range(0.03, 0.08), c.glow([200, 220, 255], 0.3));
  }
  if (time === 'dusk' && rng.chance(0.4)) {
    near += circle(rng.range(0, W), yh - rng.range(0, 20) * k, H * rng.range(0.2, 0.6), c.glow([255, 190, 120], rng.range(0.4, 0.8), 0.15));
  }
  if (opts.bonnet) near += drawBonnet(c, opts.bonnet, tls, lights);
  // vignette
  if (rng.chance(0.6)) {
    const id = 'vig';
    c.defs.push(`<radialGradient id="${id}" cx="0.5" cy="0.5" r="0.75"><stop offset="0.55" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="${f2(rng.range(0.2, 0.6))}"/></radialGradient>`);
    near += rect(0, 0, W, H, `url(#${id})`);
  }
  // global haze / tint
  if (rng.chance(0.4)) near += rect(0, 0, W, H, hex(rng.pick<RGB>([[255, 240, 220], [200, 220, 255], [255, 255, 255], [255, 200, 150]])), ` opacity="${f2(rng.range(0.03, 0.15))}"`);
  c.add(-1, near);

  c.items.sort((a, b) => b.z - a.z);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<defs>${c.defs.join('')}</defs>` +
    c.items.map((i) => i.svg).join('') +
    `</svg>`;

  const post: PostFx = {
    blur: rng.chance(0.45) ? rng.range(0.3, 0.9) * k : 0,
    motion: rng.chance(0.2) ? rng.int(2, 4) : 0,
    noise: time === 'night' ? rng.range(2, 8) : rng.range(0.5, 4),
    quality: rng.int(60, 92),
    rescale: rng.chance(0.25) ? rng.range(0.6, 0.9) : 1,
  };
  void parkingBoxes;
  return { svg, cls, time, lights, post, look: opts.look };
}
