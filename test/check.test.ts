import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { evaluateCase, minimumPoint, energyShare, parseManifest, readManifest } from '../dist/report/check.js';
import { junitXml } from '../dist/report/junit.js';
import { EMBEDDED_MODEL } from '../dist/occlude.js';
import { DASHCAM, REFERENCE, ROOT, readF32, reference, shared, tmpdir, runCli } from './helpers.js';

const ref = reference();
const A5AF = 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg';
let SEED: string;
let dir: string;

const cli = runCli;

beforeAll(() => {
  SEED = shared('seed-model', 'nexar-squeezenet-a');
  dir = tmpdir('occlude-check-');
});

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

  it('the minimum point is the centre of the first minimum region (ties: row-major first region)', () => {
    // 6x4 map, minimum 0 on a 2x2 block at x 2..3, y 1..2 and on a single pixel later
    const w = 6;
    const map = new Float32Array(24).fill(1);
    for (const [x, y] of [[2, 1], [3, 1], [2, 2], [3, 2], [5, 3]]) map[y * w + x] = 0;
    expect(minimumPoint(map, w, 4)).toEqual({ x: 3, y: 2, value: 0, region: { left: 2, top: 1, width: 2, height: 2 } });
  });

  it('the minimum is inside a box when any pixel at the minimum value is (a small box at the edge of the region)', () => {
    const w = 40;
    const map = new Float32Array(40 * 30).fill(1);
    for (let y = 8; y < 24; y++) for (let x = 16; x < 32; x++) map[y * w + x] = 0.2; // a 16x16 cell, centre (24,16)
    const info = { map, width: w, height: 30, probability: 1, class: 'red', minPatch: { left: 0, top: 0, width: 32, height: 32 }, minProbability: 0.2 };
    const small = { left: 28, top: 20, width: 6, height: 8 }; // holds the cell's corner only
    const r = evaluateCase({ name: 'x', image: 'x', class: 'red', evidence: [{ left: 0, top: 0, width: 4, height: 4 }, small] }, defaults, { class: 'red', probability: 1 }, info);
    expect(r.pass).toBe(true);
    expect(r.detail).toContain('red minimum at (30,22) inside box 6x8 at (28,20)');
    const miss = evaluateCase({ name: 'x', image: 'x', class: 'red', evidence: [{ left: 32, top: 20, width: 6, height: 8 }] }, defaults, { class: 'red', probability: 1 }, info);
    expect(miss.reasons).toEqual(['red minimum at (24,16) outside all boxes (6x8 at (32,20))']);
  });

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

  it('a map without contrast points nowhere: a case with evidence fails, one without checks the class only', () => {
    const flat = { map: new Float32Array(100).fill(0.7), width: 10, height: 10, probability: 0.7, class: 'red', minPatch: { left: 0, top: 0, width: 5, height: 5 }, minProbability: 0.7 };
    const withBox = evaluateCase({ name: 'x', image: 'x', class: 'red', evidence: [{ left: 0, top: 0, width: 10, height: 10 }] }, defaults, { class: 'red', probability: 0.7 }, flat);
    expect(withBox.reasons[0]).toMatch(/no contrast/);
    expect(evaluateCase({ name: 'x', image: 'x', class: 'red' }, defaults, { class: 'red', probability: 0.7 }, null).pass).toBe(true);
    expect(evaluateCase({ name: 'x', image: 'x', class: 'red' }, defaults, { class: 'green', probability: 0.6 }, null).reasons).toEqual(['predicted green (60.00%), expected red']);
  });

  it('checks/dashcam.json is correct: classes from reference.json, boxes hold the reference minimum', async () => {
    const m = await readManifest(path.join(ROOT, 'checks', 'dashcam.json'), EMBEDDED_MODEL);
    expect(m.model).toBe(SEED);
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

  it('validates manifests with one-line, sharp-style messages', () => {
    expect(() => parseManifest({ cases: [] }, 'm.json', EMBEDDED_MODEL)).toThrow(/"cases" must be a non-empty list/);
    expect(() => parseManifest({ patch: 0, cases: [{ image: 'a.jpg' }] }, 'm.json', EMBEDDED_MODEL)).toThrow(/Expected positive integer for patch but received 0/);
    expect(() => parseManifest({ cases: [{ image: 'a.jpg', evidence: [{ left: 1 }] }] }, 'm.json', EMBEDDED_MODEL)).toThrow(/"evidence" must be a list of \{left, top, width, height\} boxes/);
    expect(() => parseManifest({ cases: [{ image: 'a.jpg', rule: 'max' }] }, 'm.json', EMBEDDED_MODEL)).toThrow(/Expected min or energy for rule/);
    // "models/traffic-light" means the embedded model when there is no such folder beside the manifest
    expect(parseManifest({ model: 'models/traffic-light', cases: [{ image: 'a.jpg' }] }, '/nowhere/m.json', EMBEDDED_MODEL).model).toBe(EMBEDDED_MODEL);
  });

  it('JUnit XML: one testcase per case, failures with their reason, escaped', () => {
    const ok = evaluateCase({ name: 'a&b.jpg', image: 'a&b.jpg', class: 'red' }, defaults, { class: 'red', probability: 0.9 }, null, 1.5);
    const ko = evaluateCase({ name: 'c.jpg', image: 'c.jpg', class: 'red' }, defaults, { class: 'none', probability: 0.8 }, null);
    const xml = junitXml([{ name: 'fixtures/manifest.json', outcomes: [ok, ko], seconds: 2 }]);
    expect(xml).toMatch(/<testsuites name="occlude check" tests="2" failures="1" errors="0"/);
    expect(xml).toContain('name="a&amp;b.jpg"');
    expect(xml).toContain('<failure message="predicted none (80.00%), expected red" type="check">');
  });
});

describe('occlude check (CLI) on real frames with the seed model', () => {
  // paths relative to the manifest's folder; patch 64 / stride 32 keeps the test cheap
  const rel = (p: string) => path.relative(dir, p);
  const manifest = (lightsBox: object) => ({
    model: rel(SEED),
    patch: 64,
    stride: 32,
    cases: Object.entries(ref.frames).map(([name, f]) => ({
      image: rel(path.join(DASHCAM, name)),
      class: f.class,
      ...(name === A5AF ? { evidence: [lightsBox] } : {}),
    })),
  });

  it('passes a correct manifest: exit 0, one PASS line per case, JUnit without failures', async () => {
    const file = path.join(dir, 'good.json');
    writeFileSync(file, JSON.stringify(manifest({ left: 140, top: 105, width: 50, height: 45 })));
    const junit = path.join(dir, 'good.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(7);
    expect(lines.slice(0, 6).every((l) => l.startsWith('PASS '))).toBe(true);
    expect(lines.find((l) => l.includes(A5AF))).toMatch(/red minimum at \(\d+,\d+\) inside box 50x45 at \(140,105\)/);
    expect(lines[6]).toMatch(/^6 passed, 0 failed; backend (node|wasm|cpu) \(JUnit: /);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="[^"]*good\.json" tests="6" failures="0" errors="0"/);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(6);
  });

  it('fails a manifest whose box is wrong, with the reason; exit 1; --json lines; JUnit failure', async () => {
    const m = manifest({ left: 300, top: 20, width: 40, height: 40 });
    m.cases.push({ image: rel(path.join(DASHCAM, '0bc85042878d4d63454403f68fee11b9.jpg')), class: 'red' }); // the green frame
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(m));
    const junit = path.join(dir, 'bad.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1', '--json']);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(7);
    const a5af = lines.find((l) => l.image.endsWith(A5AF));
    expect(a5af.pass).toBe(false);
    expect(a5af.backend).toMatch(/^(node|wasm|cpu)$/);
    expect(a5af.predicted).toBe('red');
    expect(a5af.reasons).toEqual([`red minimum at (${a5af.minimum.x},${a5af.minimum.y}) outside all boxes (40x40 at (300,20))`]);
    expect(a5af.minimum.x).toBeLessThan(300); // it is at the lights, around x 150
    const green = lines[6];
    expect(green.reasons).toEqual(['predicted green (100.0000%), expected red']);
    expect(lines.filter((l) => l.pass).length).toBe(5);
    expect(r.err).toMatch(/5 passed, 2 failed/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/tests="7" failures="2" errors="0"/);
    expect(xml).toContain('<failure message="red minimum at (');
  });

  it('an unreadable image is an error case, the others still run', async () => {
    const file = path.join(dir, 'missing.json');
    writeFileSync(file, JSON.stringify({ model: rel(SEED), cases: [{ image: 'nope.jpg', class: 'red' }, { image: rel(path.join(DASHCAM, A5AF)), class: 'red' }] }));
    const junit = path.join(dir, 'missing.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL nope\.jpg: .*nope\.jpg: no such file/m);
    expect(r.out).toMatch(/^PASS .*a5af/m);
    expect(readFileSync(junit, 'utf8')).toMatch(/errors="1"/);
  });

  it('a bad manifest is a usage error (exit 2)', async () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{"cases": [');
    const r = await cli(['check', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.json: not valid JSON/);
  });
});
