import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { generateFrame } from '../synth/render.js';

const opts = { width: 455, height: 256 };

describe('the bonnet (synth --bonnet)', () => {
  it('adds only the bonnet to half the frames, below every light, and nothing to the others', async () => {
    let drawn = 0;
    let without = 0;
    for (let i = 0; i < 12 && (drawn < 3 || without < 1); i++) {
      const plain = await generateFrame(41, i, opts);
      const bon = await generateFrame(41, i, opts, false, true);
      expect(bon.scene.lights).toEqual(plain.scene.lights);
      expect(bon.scene.cls).toBe(plain.scene.cls);
      expect(bon.scene.post).toEqual(plain.scene.post);
      if (bon.scene.svg === plain.scene.svg) {
        without++;
        expect(bon.jpeg.equals(plain.jpeg)).toBe(true);
        continue;
      }
      drawn++;
      // the bonnet is one path filled to the bottom edge, added to the near layer; its top lies below every light's box
      const bonnet = /<path d="M0,256 L0,([\d.]+) Q[\d.]+,([\d.]+) 455,([\d.]+) L455,256 Z"/g;
      const tops = [...bon.scene.svg.matchAll(bonnet)].filter((m) => !plain.scene.svg.includes(m[0]));
      expect(tops).toHaveLength(1);
      const top = Math.min(...tops[0]!.slice(1, 4).map(Number));
      for (const l of plain.scene.lights) expect(top).toBeGreaterThan(l.top + l.height);
    }
    expect(drawn).toBeGreaterThanOrEqual(3);
    expect(without).toBeGreaterThan(0);
  });

  it('mirrors a lit lamp in the bonnet, straight below it, in its colour', async () => {
    // a large green light by day, high in the frame; look for the seed whose frame draws the bonnet and its reflection
    const o = { ...opts, cls: 'green' as const, facing: 1, time: 'day' as const, lightSize: [40, 50] as [number, number], otherLights: false, parkingSign: false, orientation: 'vertical' as const };
    let found = false;
    for (let s = 0; s < 20 && !found; s++) {
      const plain = await generateFrame(7, s, o);
      const bon = await generateFrame(7, s, o, false, true);
      // the first lit ellipse after the bonnet (the last path to the bottom edge) is the lamp's reflection
      const m = /<!--lit--><ellipse cx="([\d.]+)" cy="([\d.]+)"/.exec(bon.scene.svg.slice(bon.scene.svg.lastIndexOf('<path d="M0,256 L0,')));
      if (!m) continue;
      found = true;
      const l = plain.scene.lights.find((x) => x.state === 'green')!;
      const [x, y] = [Number(m[1]), Number(m[2])];
      expect(Math.abs(x - (l.left + l.width / 2))).toBeLessThan(0.02 * opts.width);
      expect(y).toBeGreaterThan(l.top + l.height);
      // in the rendered frame the reflection is greener than the same spot without the bonnet's blob
      const raw = async (j: Buffer): Promise<Buffer> => sharp(j).removeAlpha().raw().toBuffer();
      const [p, q] = [await raw(plain.jpeg), await raw(bon.jpeg)];
      const i = (Math.round(y) * opts.width + Math.round(x)) * 3;
      expect(q[i + 1]! - q[i]!).toBeGreaterThan(20);
      expect(q[i + 1]! - q[i]!).toBeGreaterThan(p[i + 1]! - p[i]!);
    }
    expect(found).toBe(true);
  });
});
