import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { Rng } from '../synth/rng.js';
import { generateFrame } from '../synth/render.js';
import { drawCameraLook, unlitSvg } from '../synth/scene.js';

const opts = { width: 455, height: 256 };

describe('camera looks (synth --looks)', () => {
  it('change only the lit lamps of a frame, and nothing of a frame without a look', async () => {
    let withLook = 0;
    let without = 0;
    for (let i = 0; i < 12 && (withLook < 2 || without < 1); i++) {
      const look = drawCameraLook(new Rng(31, i, 0x10c4));
      const plain = await generateFrame(31, i, opts);
      const looked = await generateFrame(31, i, opts, true);
      expect(looked.scene.lights).toEqual(plain.scene.lights);
      expect(looked.scene.cls).toBe(plain.scene.cls);
      if (!look) {
        without++;
        expect(looked.jpeg.equals(plain.jpeg)).toBe(true);
        continue;
      }
      expect(looked.scene.look).toBeDefined();
      // with its lit lamps (and the gradients, which hold their bloom's colour) removed, the looked frame is the plain frame
      const bare = (svg: string): string => unlitSvg(svg).replace(/<defs>[\s\S]*?<\/defs>/, '');
      expect(bare(looked.scene.svg)).toBe(bare(plain.scene.svg));
      if (plain.scene.cls !== 'none') {
        withLook++;
        expect(looked.scene.svg).not.toBe(plain.scene.svg);
      }
    }
    expect(withLook).toBeGreaterThan(0);
    expect(without).toBeGreaterThan(0);
  });

  it('clip a lit lamp towards white', async () => {
    // a large red light by day, the same scene plain and with a strongly clipping, desaturating look
    const o = { ...opts, cls: 'red' as const, facing: 1, time: 'day' as const, lightSize: [40, 50] as [number, number], otherLights: false, parkingSign: false, orientation: 'vertical' as const };
    const look = { rng: new Rng(1), redHue: 40, greenHue: 20, blow: 1, desat: 0.8, halo: 1 };
    const plain = await generateFrame(5, 0, o);
    const looked = await generateFrame(5, 0, { ...o, look });
    const l = plain.scene.lights.find((x) => x.state === 'red')!;
    // the lamp's centre: top third of the housing
    const cx = Math.round(l.left + l.width / 2);
    const cy = Math.round(l.top + l.height / 6);
    const px = async (j: Buffer): Promise<number[]> => {
      const raw = await sharp(j).removeAlpha().raw().toBuffer();
      const i = (cy * opts.width + cx) * 3;
      return [raw[i]!, raw[i + 1]!, raw[i + 2]!];
    };
    const [p, q] = [await px(plain.jpeg), await px(looked.jpeg)];
    // plain: red well above blue; looked: blue close to red (whitish or pale yellow)
    expect(p[0]! - p[2]!).toBeGreaterThan(60);
    expect(q[0]! - q[2]!).toBeLessThan(p[0]! - p[2]!);
    expect(Math.min(...q)).toBeGreaterThan(Math.min(...p));
  });
});
