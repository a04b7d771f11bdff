import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { Session, type OcclusionResult } from '../dist/index.js';
import { frameSpec, resolveInputSpec, validateMetadata } from '../dist/model/metadata.js';
import { ROOT, maxAbsDiff, runCli, tmpdir } from './helpers.js';

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
