import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ROOT, maxAbsDiff, readF32, runCli, tmpdir } from './helpers.js';
import { EMBEDDED_MODEL, EMBEDDED_MODELS } from '../dist/index.js';
import { resolveEmbedded } from '../dist/model/embedded.js';
import { parseManifest } from '../dist/report/manifest.js';

/** The models that ship with occlude, chosen by name: `--model embedded:NAME`. */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
const COCO = path.join(ROOT, 'models', 'traffic-light-coco');

describe('embedded models by name', () => {
  it('resolves embedded:NAME to the folder in the package, and leaves paths alone', () => {
    expect(EMBEDDED_MODELS['traffic-light']).toBe(EMBEDDED_MODEL);
    expect(resolveEmbedded('embedded:traffic-light-coco')).toBe(COCO);
    expect(resolveEmbedded('embedded')).toBe(EMBEDDED_MODEL);
    expect(resolveEmbedded('models/mine')).toBe('models/mine');
    expect(() => resolveEmbedded('embedded:nope')).toThrow(
      'unknown embedded model "embedded:nope"; occlude ships embedded:traffic-light, embedded:traffic-light-coco',
    );
  });

  it('a check manifest can name one', () => {
    const m = parseManifest({ model: 'embedded:traffic-light-coco', cases: [{ image: 'a.jpg', class: 'red' }] }, '/x/m.json', EMBEDDED_MODEL);
    expect(m.model).toBe(COCO);
    expect(() => parseManifest({ model: 'embedded:nope', cases: [{ image: 'a.jpg' }] }, '/x/m.json', EMBEDDED_MODEL)).toThrow(
      /\/x\/m\.json: .*unknown embedded model "embedded:nope"/,
    );
  });

  it('--model embedded:traffic-light-coco runs the COCO-backbone LayersModel (free input height, range 0-255) and names it', async () => {
    const r = await runCli(['predict', FRAME, '--model', 'embedded:traffic-light-coco', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.model).toBe('embedded:traffic-light-coco');
    expect(p.class).toBe('red');
    expect(p.probabilities.none + p.probabilities.red + p.probabilities.green).toBeCloseTo(1, 5);
  });

  it('traffic-light-coco occludes on the incremental engine with frame gates; --engine full gives the exact map, close to it', async () => {
    const args = [FRAME, '--model', 'embedded:traffic-light-coco', '--class', 'red', '--patch', '64', '--stride', '64', '--json', '--save-map'];
    const dir = tmpdir('occlude-coco-gates-');
    const a = await runCli([...args, path.join(dir, 'gates.f32'), '-o', path.join(dir, 'gates.png')]);
    const f = await runCli([...args, path.join(dir, 'full.f32'), '-o', path.join(dir, 'full.png'), '--engine', 'full']);
    expect([a.code, f.code]).toEqual([0, 0]);
    const ja = JSON.parse(a.out);
    const jf = JSON.parse(f.out);
    expect([ja.engine, ja.gates, jf.engine, jf.gates]).toEqual(['incremental', 'frame', 'full', undefined]);
    // the unoccluded frame is exact; each variant has the frame's gates (measured: at most 0.035 per pixel on the dash-cam frames)
    expect(ja.probability).toBeCloseTo(jf.probability, 5);
    expect(maxAbsDiff(readF32(path.join(dir, 'gates.f32')), readF32(path.join(dir, 'full.f32')))).toBeLessThan(0.03);
    expect(ja.minPatch).toEqual(jf.minPatch);
  });

  it('an unknown name is a usage error (exit 2) that lists the shipped ones', async () => {
    const r = await runCli(['predict', FRAME, '--model', 'embedded:nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^occlude: unknown embedded model "embedded:nope"; occlude ships embedded:traffic-light, embedded:traffic-light-coco\n$/);
  });
});
