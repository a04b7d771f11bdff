import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import * as tfl from '@tensorflow/tfjs-layers';
import { Session, type OcclusionResult } from '../dist/index.js';
import { frameSpec, resolveInputSpec, validateMetadata } from '../dist/model/metadata.js';
import { ROOT, cpuBackend, maxAbsDiff, runCli, saveLayersModel, tmpdir } from './helpers.js';

/**
 * input.fit "width" (issue #18): a fully convolutional model takes each frame at the input's width with
 * the frame's own aspect ratio, instead of a 4:3 frame stretched to 16:9. The embedded model uses it.
 */

const FREE = { height: null, width: 455, channels: 3 };

describe('fit: the spec of one frame', () => {
  const spec = resolveInputSpec(FREE, { input: { size: [256, 455], fit: 'width' } });

  it('keeps the aspect ratio at the input width; a 16:9 frame gets the nominal spec itself', () => {
    expect(spec.fit).toBe('width');
    expect(frameSpec(spec, 800, 600)).toMatchObject({ width: 455, height: 341, fit: 'width' });
    expect(frameSpec(spec, 2048, 1024)).toMatchObject({ width: 455, height: 228 });
    expect(frameSpec(spec, 640, 360)).toBe(spec);
    expect(frameSpec(spec, 455, 256)).toBe(spec);
  });

  it('stretch (the default) gives every frame the nominal size', () => {
    const stretch = resolveInputSpec(FREE, { input: { size: [256, 455] } });
    expect(stretch.fit).toBe('stretch');
    expect(frameSpec(stretch, 800, 600)).toBe(stretch);
  });

  it('refuses frames more than 4 times taller or flatter than the input, and what fit width cannot do', () => {
    expect(() => frameSpec(spec, 455, 2000)).toThrow(/image 455x2000 would be 455x2000 at the model's width \(fit "width"\), more than 4 times taller or flatter than its 455x256/);
    expect(() => frameSpec(spec, 2000, 100)).toThrow(/more than 4 times taller or flatter/);
    expect(() => resolveInputSpec({ height: 256, width: 455, channels: 3 }, { input: { fit: 'width' } })).toThrow(
      /input fit "width" needs a model whose input height is free; this model's is fixed at 256/,
    );
    expect(() => resolveInputSpec(FREE, { input: { size: [227, 227], fit: 'width', resize: [256, 256] } })).toThrow(/cannot be combined with a centre crop/);
    expect(() => resolveInputSpec(FREE, { input: { size: [256, 300], fit: 'width' } })).toThrow(/input width 300 does not match the model's input width 455/);
    expect(() => validateMetadata({ input: { fit: 'cover' } })).toThrow(/input.fit/);
    // the library's overrides are checked as occlude.json is
    expect(() => resolveInputSpec(FREE, { input: { size: [256, 455] } }, { fit: 'cover' as never })).toThrow(/input.fit/);
  });
});

describe('fit width with maxWidth: a wider frame keeps its own width, up to maxWidth', () => {
  const WIDE = { height: null, width: null, channels: 3 };
  const spec = resolveInputSpec(WIDE, { input: { size: [256, 455], fit: 'width', maxWidth: 910 } });

  it('takes 455 to 910 px frames at their own size, wider ones at 910, narrower ones at 455 as before', () => {
    expect(spec.maxWidth).toBe(910);
    expect(frameSpec(spec, 800, 600)).toMatchObject({ width: 800, height: 600 });
    expect(frameSpec(spec, 2048, 1024)).toMatchObject({ width: 910, height: 455 });
    expect(frameSpec(spec, 640, 360)).toMatchObject({ width: 640, height: 360 });
    expect(frameSpec(spec, 300, 200)).toMatchObject({ width: 455, height: 303 });
    expect(frameSpec(spec, 455, 256)).toBe(spec);
    // without maxWidth it is the input width
    expect(resolveInputSpec(FREE, { input: { size: [256, 455], fit: 'width' } }).maxWidth).toBe(455);
    // the aspect limit is the one of fit width
    expect(() => frameSpec(spec, 2000, 100)).toThrow(/image 2000x100 would be 455x23 at the model's width/);
  });

  it('refuses what it cannot do, naming the field', () => {
    expect(() => resolveInputSpec(WIDE, { input: { size: [256, 455], maxWidth: 910 } })).toThrow(/input maxWidth needs fit "width"/);
    expect(() => resolveInputSpec(WIDE, { input: { size: [256, 455], fit: 'width', maxWidth: 300 } })).toThrow(/input maxWidth 300 is smaller than the input width 455/);
    expect(() => resolveInputSpec(FREE, { input: { size: [256, 455], fit: 'width', maxWidth: 910 } })).toThrow(
      /input maxWidth 910 needs a model whose input width is free; this model's is fixed at 455/,
    );
    expect(resolveInputSpec(FREE, { input: { size: [256, 455], fit: 'width', maxWidth: 455 } }).maxWidth).toBe(455);
    expect(() => validateMetadata({ input: { maxWidth: 0 } })).toThrow(/Expected a positive integer for input.maxWidth but received 0/);
    expect(() => validateMetadata({ input: { maxWidth: 9.5 } })).toThrow(/input.maxWidth/);
  });

  describe('on a small fully convolutional model', () => {
    let dir: string;
    let capped: string;
    let nominal: string;
    let frame: string;
    beforeAll(async () => {
      await cpuBackend();
      dir = tmpdir('occlude-maxwidth-');
      const m = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [null, null, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }),
          tfl.layers.maxPooling2d({ poolSize: 2 }),
          tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }) }),
          tfl.layers.globalAveragePooling2d({}),
          tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotNormal({ seed: 5 }) }),
        ],
      });
      // the same weights twice: input 24x48 with maxWidth 96, and input 48x96
      capped = await saveLayersModel(m, path.join(dir, 'capped'), { labels: ['a', 'b', 'c'], input: { size: [24, 48], fit: 'width', maxWidth: 96 } });
      nominal = await saveLayersModel(m, path.join(dir, 'nominal'), { labels: ['a', 'b', 'c'], input: { size: [48, 96], fit: 'width' } });
      // a 192x96 frame of smooth colours
      const raw = Buffer.alloc(192 * 96 * 3);
      for (let y = 0; y < 96; y++) for (let x = 0; x < 192; x++) for (let c = 0; c < 3; c++) raw[(y * 192 + x) * 3 + c] = (x * (c + 1) * 3 + y * (5 - c) * 2 + ((x * y) % 17) * 4) % 256;
      frame = path.join(dir, 'frame.png');
      await sharp(raw, { raw: { width: 192, height: 96, channels: 3 } }).png().toFile(frame);
    });

    it('a 192 px frame under maxWidth 96 is the 96 px input of a model of that nominal size; the incremental engine equals full passes', async () => {
      const a = await Session.open({ model: capped, workers: 1 });
      const b = await Session.open({ model: nominal, workers: 1 });
      const f = await Session.open({ model: capped, workers: 1, engine: 'full' });
      try {
        const o = { patch: 32, stride: 16, classes: 'all' as const };
        const [ra, rb, rf] = [await a.occlude(frame, o), await b.occlude(frame, o), await f.occlude(frame, o)];
        expect(ra.engine).toBe('incremental');
        for (let k = 0; k < 3; k++) {
          expect(maxAbsDiff(ra.maps[k].map, rb.maps[k].map)).toBeLessThan(1e-6);
          expect(maxAbsDiff(ra.maps[k].map, rf.maps[k].map)).toBeLessThan(1e-5);
        }
        // and not the 48 px input it had without maxWidth
        const plain = await Session.open({ model: capped, workers: 1, input: { maxWidth: 48 } });
        try {
          const rp = await plain.occlude(frame, o);
          expect(maxAbsDiff(rp.map, ra.map)).toBeGreaterThan(1e-4);
        } finally {
          await plain.close();
        }
      } finally {
        await Promise.all([a.close(), b.close(), f.close()]);
      }
    });

    it('the flag --input-max-width overrides occlude.json', async () => {
      const with96 = await runCli(['predict', frame, '--model', capped, '--json', '--workers', '1']);
      const with48 = await runCli(['predict', frame, '--model', capped, '--json', '--workers', '1', '--input-max-width', '48']);
      const ref = await runCli(['predict', frame, '--model', nominal, '--json', '--workers', '1']);
      expect([with96.code, with48.code, ref.code]).toEqual([0, 0, 0]);
      expect(JSON.parse(with96.out).probabilities).toEqual(JSON.parse(ref.out).probabilities);
      expect(JSON.parse(with48.out).probabilities).not.toEqual(JSON.parse(ref.out).probabilities);
      const bad = await runCli(['predict', frame, '--model', nominal, '--input-max-width', '10']);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/input maxWidth 10 is smaller than the input width 96/);
      const v = await runCli(['predict', frame, '--model', capped, '--workers', '1', '-v']);
      expect(v.err).toMatch(/input 24x48, its height follows each frame's aspect ratio \(fit width\), and a wider frame keeps its width up to 96 \(maxWidth\)/);
    });

    it('chooseScale: a wider frame is scored at both widths, and the one where the label is less probable is used', async () => {
      const at = async (extra: string[]) => {
        const r = await runCli(['predict', frame, '--model', capped, '--json', '--workers', '1', ...extra]);
        expect(r.code).toBe(0);
        return JSON.parse(r.out);
      };
      const wide = (await at([])).probabilities; // 96 px
      const narrow = (await at(['--input-max-width', '48'])).probabilities;
      expect(wide).not.toEqual(narrow);
      const chosen = new Set<number>();
      // the probabilities sum to 1 at both widths, so some label is less probable at each: both choices are made
      for (const label of ['a', 'b', 'c']) {
        const p = await at(['--input-choose-scale', label]);
        const wideWins = wide[label] < narrow[label];
        expect(p.probabilities).toEqual(wideWins ? wide : narrow);
        expect(p.input).toEqual(wideWins ? [48, 96] : [24, 48]);
        chosen.add(p.input[1]);
        // the map is the chosen width's too
        const s = await Session.open({ model: capped, workers: 1, input: { chooseScale: label } });
        const ref = await Session.open({ model: capped, workers: 1, input: { maxWidth: wideWins ? 96 : 48 } });
        try {
          const o = { patch: 32, stride: 16 };
          const [rs, rr] = [await s.occlude(frame, o), await ref.occlude(frame, o)];
          expect(rs.input).toEqual(p.input);
          expect(rs.probabilities).toEqual(rr.probabilities);
          expect(maxAbsDiff(rs.map, rr.map)).toBe(0);
        } finally {
          await Promise.all([s.close(), ref.close()]);
        }
      }
      expect([...chosen].sort()).toEqual([48, 96]);
      // a frame no wider than the input has one scale
      const small = path.join(dir, 'small.png');
      await sharp(frame).resize(48, 24).png().toFile(small);
      const one = await runCli(['predict', small, '--model', capped, '--json', '--workers', '1', '--input-choose-scale', 'a']);
      expect(JSON.parse(one.out).input).toEqual([24, 48]);
      // -v and run.json name it
      const v = await runCli(['predict', frame, '--model', capped, '--workers', '1', '-v', '--input-choose-scale', 'a']);
      expect(v.err).toMatch(/keeps its width up to 96 \(maxWidth\) or 48, whichever gives a the lower probability \(chooseScale\)/);
      const out = path.join(dir, 'out-choose');
      const run = await runCli([frame, '--model', capped, '--patch', '32', '--stride', '32', '--workers', '1', '--out', out, '--input-choose-scale', 'b']);
      expect(run.code).toBe(0);
      expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).settings.input).toMatchObject({ maxWidth: 96, chooseScale: 'b' });
      const again = await runCli([frame, '--model', capped, '--patch', '32', '--stride', '32', '--workers', '1', '--out', out, '--resume']);
      expect(again.code).toBe(2);
      expect(again.err).toMatch(/preprocessing chooseScale none \(was b\)/);
    });

    it('chooseScale is refused up front when it cannot apply', async () => {
      const unknown = await runCli(['predict', frame, '--model', capped, '--input-choose-scale', 'red']);
      expect(unknown.code).toBe(2);
      expect(unknown.err).toMatch(/input chooseScale "red" is not one of the model's labels \(a, b, c\)/);
      const noWider = await runCli(['predict', frame, '--model', nominal, '--input-choose-scale', 'a']);
      expect(noWider.code).toBe(2);
      expect(noWider.err).toMatch(/input chooseScale needs a maxWidth wider than the input width 96/);
      expect(() => validateMetadata({ input: { chooseScale: 3 } })).toThrow(/Expected a label for input.chooseScale but received 3/);
    });

    it('a folder run records maxWidth in run.json, and a resume with another is refused, naming it', async () => {
      const out = path.join(dir, 'out');
      const first = await runCli([frame, '--model', capped, '--patch', '32', '--stride', '32', '--workers', '1', '--out', out]);
      expect(first.code).toBe(0);
      expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).settings.input.maxWidth).toBe(96);
      const again = await runCli([frame, '--model', capped, '--patch', '32', '--stride', '32', '--workers', '1', '--out', out, '--resume', '--input-max-width', '48']);
      expect(again.code).toBe(2);
      expect(again.err).toMatch(/other settings: preprocessing maxWidth none \(was 96\);/);
    });
  });
});

describe('the embedded model on a 4:3 frame', () => {
  let frame43: string;
  let full: Session;
  let inc: Session;
  beforeAll(async () => {
    // a 4:3 frame: the red-single fixture with 85 grey rows below (455x341), as a 4:3 camera would frame it
    frame43 = path.join(tmpdir('occlude-fit-'), 'red-4x3.png');
    await sharp(path.join(ROOT, 'fixtures', 'red-single.jpg'))
      .extend({ bottom: 85, background: { r: 90, g: 90, b: 90 } })
      .png()
      .toFile(frame43);
    full = await Session.open({ engine: 'full', workers: 1 });
    inc = await Session.open({ workers: 2 });
  });
  afterAll(async () => {
    await full?.close();
    await inc?.close();
  });

  function same(a: OcclusionResult, b: OcclusionResult): void {
    for (let k = 0; k < a.maps.length; k++) expect(maxAbsDiff(a.maps[k].map, b.maps[k].map)).toBeLessThan(1e-5);
  }

  it('is taken at 455x341, not squeezed to 455x256: the incremental engine (two workers) equals full passes within 1e-5', async () => {
    expect(inc.inputSpec()).toMatchObject({ height: 256, width: 455, fit: 'width' });
    const a = await inc.occlude(frame43, { patch: 64, stride: 32, classes: 'all' });
    const b = await full.occlude(frame43, { patch: 64, stride: 32, classes: 'all' });
    expect(a.engine).toBe('incremental');
    expect(a.width * 1000 + a.height).toBe(455 * 1000 + 341);
    same(a, b);
    expect(a.predicted.class).toBe('red');
    expect(frameSpec(inc.inputSpec(), a.width, a.height).height).toBe(341);
    // the lamp is where it was in the 16:9 fixture (the rows added are below it): the minimum is on it
    expect(a.minPatch.top).toBeLessThan(128);
  });

  it('one session takes frames of different shapes in turn (the workers rebuild their caches)', async () => {
    const fixture = path.join(ROOT, 'fixtures', 'red-single.jpg');
    const first = await inc.occlude(fixture, { patch: 64, stride: 32, class: 'red' });
    await inc.occlude(frame43, { patch: 64, stride: 32, class: 'red' });
    const again = await inc.occlude(fixture, { patch: 64, stride: 32, class: 'red' });
    expect(maxAbsDiff(first.map, again.map)).toBe(0);
    const ref = await full.occlude(fixture, { patch: 64, stride: 32, class: 'red' });
    expect(maxAbsDiff(first.map, ref.map)).toBeLessThan(1e-5);
  });

  it('in a folder run, a frame too flat for the model is that frame\'s error: the others are written, exit 1', async () => {
    const dir = tmpdir('occlude-fit-');
    await sharp({ create: { width: 2000, height: 100, channels: 3, background: '#777' } }).jpeg().toFile(path.join(dir, 'flat.jpg'));
    await sharp(path.join(ROOT, 'fixtures', 'red-single.jpg')).toFile(path.join(dir, 'red.jpg'));
    const out = path.join(dir, 'out');
    const r = await runCli([dir, '--out', out, '--class', 'red', '--patch', '64', '--stride', '64', '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path.join(dir, 'flat.jpg')}: image 2000x100 would be 455x23 at the model's width (fit "width"), more than 4 times taller or flatter than its 455x256`);
    expect(existsSync(path.join(out, 'red.occlusion.png'))).toBe(true);
  });

  it('--input-fit stretch squeezes it to 16:9 instead (another probability), and -v names the fit', async () => {
    const keep = await runCli(['predict', frame43, '--json', '--workers', '1']);
    const squeeze = await runCli(['predict', frame43, '--json', '--workers', '1', '--input-fit', 'stretch']);
    expect(keep.code).toBe(0);
    expect(squeeze.code).toBe(0);
    const [p, q] = [JSON.parse(keep.out), JSON.parse(squeeze.out)];
    const direct = await inc.predict(frame43);
    expect(p.probability).toBeCloseTo(direct.probability, 5);
    expect(Math.abs(p.probabilities.red - q.probabilities.red)).toBeGreaterThan(1e-3);
    const v = await runCli([frame43, '--class', 'red', '--patch', '64', '--stride', '32', '--workers', '1', '-v', '-o', path.join(tmpdir('occlude-fit-'), 'o.png')]);
    expect(v.code).toBe(0);
    expect(v.err).toMatch(/input 256x455, its height follows each frame's aspect ratio \(fit width\)/);
  });
});
