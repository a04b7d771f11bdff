import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { evaluateCase, minimumPoint, energyShare } from '../../dist/report/check.js';
import { readManifest } from '../../dist/report/manifest.js';
import { EMBEDDED_MODEL } from '../../dist/session.js';
import { DASHCAM, REFERENCE, ROOT, readF32, reference, shared } from '../helpers.js';

/** The check rules on the reference maps of ../shared/dashcam, and checks/dashcam.json (what .ci/run checks). */
const ref = reference();
const A5AF = 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg';
const box = (mp: { left: number; top: number; size: number }) => ({ left: mp.left, top: mp.top, width: mp.size, height: mp.size });
const defaults = { rule: 'min' as const, minShare: 0.5 };

describe('the check rules on the reference maps of ../shared/dashcam', () => {
  for (const [name, f] of Object.entries(ref.frames)) {
    const map = () => readF32(path.join(REFERENCE, f.map_file));
    const info = () => ({ map: map(), width: f.width, height: f.height, probability: f.probabilities['nexar-squeezenet-a'][f.class === 'red' ? 1 : 2], class: f.class, minPatch: box(f.min_patch), minProbability: f.min_probability });
    it(`${name}: passes with its minimum patch as evidence, fails with a box elsewhere`, () => {
      const predicted = { class: f.class, probability: 0.99 };
      const good = evaluateCase({ name, image: name, class: f.class, evidence: [box(f.min_patch)] }, defaults, predicted, info());
      expect(good.pass).toBe(true);
      expect(good.detail).toMatch(/minimum at \(\d+,\d+\) inside box 32x32/);
      const far = { left: (f.min_patch.left + 200) % 400, top: 0, width: 20, height: 20 };
      const bad = evaluateCase({ name, image: name, class: f.class, evidence: [far] }, defaults, predicted, info());
      expect(bad.pass).toBe(false);
      const m = bad.minimum!;
      expect(bad.reasons).toEqual([`${f.class} minimum at (${m.x},${m.y}) outside all boxes (20x20 at (${far.left},0))`]);
    });
  }

  it('energy rule: the share of the probability drop inside the boxes', () => {
    const f = ref.frames[A5AF];
    const map = readF32(path.join(REFERENCE, f.map_file));
    const p = f.probabilities['nexar-squeezenet-a'][1];
    const lights = { left: 140, top: 105, width: 50, height: 45 };
    const { share } = energyShare(map, f.width, f.height, p, [lights]);
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.5);
    const c = { name: A5AF, image: A5AF, class: 'red', evidence: [lights], rule: 'energy' as const };
    const mi = { map, width: f.width, height: f.height, probability: p, class: 'red', minPatch: box(f.min_patch), minProbability: f.min_probability };
    expect(evaluateCase({ ...c, minShare: 0.2 }, defaults, { class: 'red', probability: p }, mi).pass).toBe(true);
    const fail = evaluateCase(c, defaults, { class: 'red', probability: p }, mi);
    expect(fail.pass).toBe(false);
    expect(fail.reasons[0]).toMatch(/^only \d+\.\d+% of the red probability drop inside the boxes \(50x45 at \(140,105\)\); at least 50\.00% needed$/);
  });

  it('checks/dashcam.json is correct: classes from reference.json, boxes hold the reference minimum', async () => {
    const m = await readManifest(path.join(ROOT, 'checks', 'dashcam.json'), EMBEDDED_MODEL);
    expect(m.model).toBe(shared('seed-model', 'nexar-squeezenet-a'));
    expect([m.patch, m.stride]).toEqual([ref.patch, ref.stride]);
    expect(m.cases.map((c: { file: string }) => path.basename(c.file)).sort()).toEqual(Object.keys(ref.frames).sort());
    for (const c of m.cases) {
      const f = ref.frames[path.basename(c.file)];
      expect(c.file).toBe(path.join(DASHCAM, path.basename(c.file)));
      expect(c.class).toBe(f.class);
      if (!c.evidence) continue;
      const p = minimumPoint(readF32(path.join(REFERENCE, f.map_file)), f.width, f.height);
      expect(c.evidence.some((b: { left: number; top: number; width: number; height: number }) => p.x >= b.left && p.x < b.left + b.width && p.y >= b.top && p.y < b.top + b.height)).toBe(true);
    }
    expect(m.cases.filter((c: { evidence?: unknown }) => c.evidence).length).toBeGreaterThanOrEqual(2);
  });

});
