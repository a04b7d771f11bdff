import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { evaluateCase, minimumPoint } from '../dist/report/check.js';
import { parseManifest } from '../dist/report/manifest.js';
import { junitXml } from '../dist/report/junit.js';
import { EMBEDDED_MODEL } from '../dist/session.js';
import { ROOT, tmpdir, runCli } from './helpers.js';

/** The check rules on hand-made maps, manifests, JUnit XML, and `occlude check` on the fixtures with the embedded model. */
const FIXTURES = path.join(ROOT, 'fixtures');
const CLASSES: Record<string, string> = { 'red-single.jpg': 'red', 'red-triple.jpg': 'red', 'horizontal-red.jpg': 'red', 'night-red-double.jpg': 'red', 'night-red.jpg': 'red', 'green-single.jpg': 'green' };
const RED = 'red-single.jpg';
let dir: string;

const cli = runCli;

beforeAll(() => {
  dir = tmpdir('occlude-check-');
});

const defaults = { rule: 'min' as const, minShare: 0.5 };

describe('the check rules', () => {
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

  it('a map without contrast points nowhere: a case with evidence fails, one without checks the class only', () => {
    const flat = { map: new Float32Array(100).fill(0.7), width: 10, height: 10, probability: 0.7, class: 'red', minPatch: { left: 0, top: 0, width: 5, height: 5 }, minProbability: 0.7 };
    const withBox = evaluateCase({ name: 'x', image: 'x', class: 'red', evidence: [{ left: 0, top: 0, width: 10, height: 10 }] }, defaults, { class: 'red', probability: 0.7 }, flat);
    expect(withBox.reasons[0]).toMatch(/no contrast/);
    expect(evaluateCase({ name: 'x', image: 'x', class: 'red' }, defaults, { class: 'red', probability: 0.7 }, null).pass).toBe(true);
    expect(evaluateCase({ name: 'x', image: 'x', class: 'red' }, defaults, { class: 'green', probability: 0.6 }, null).reasons).toEqual(['predicted green (60.00%), expected red']);
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

describe('occlude check (CLI) on the fixtures with the embedded model', () => {
  // paths relative to the manifest's folder; patch 64 / stride 32 keeps the test cheap
  const rel = (p: string) => path.relative(dir, p);
  const manifest = (lightsBox: object) => ({
    model: rel(EMBEDDED_MODEL),
    patch: 64,
    stride: 32,
    cases: Object.entries(CLASSES).map(([name, cls]) => ({
      image: rel(path.join(FIXTURES, name)),
      class: cls,
      ...(name === RED ? { evidence: [lightsBox] } : {}),
    })),
  });

  it('passes a correct manifest: exit 0, one PASS line per case, JUnit without failures', async () => {
    const file = path.join(dir, 'good.json');
    writeFileSync(file, JSON.stringify(manifest({ left: 195, top: 55, width: 55, height: 75 })));
    const junit = path.join(dir, 'good.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(7);
    expect(lines.slice(0, 6).every((l) => l.startsWith('PASS '))).toBe(true);
    expect(lines.find((l) => l.includes(RED))).toMatch(/red minimum at \(\d+,\d+\) inside box 55x75 at \(195,55\)/);
    expect(lines[6]).toMatch(/^6 passed, 0 failed; backend (node|wasm|cpu) \(JUnit: /);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="[^"]*good\.json" tests="6" failures="0" errors="0"/);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(6);
  });

  it('fails a manifest whose box is wrong, with the reason; exit 1; --json lines; JUnit failure', async () => {
    const m = manifest({ left: 300, top: 20, width: 40, height: 40 });
    m.cases.push({ image: rel(path.join(FIXTURES, 'green-single.jpg')), class: 'red' }); // the green frame
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(m));
    const junit = path.join(dir, 'bad.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1', '--json']);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(7);
    const red = lines.find((l) => l.image.endsWith(RED));
    expect(red.pass).toBe(false);
    expect(red.backend).toMatch(/^(node|wasm|cpu)$/);
    expect(red.predicted).toBe('red');
    expect(red.reasons).toEqual([`red minimum at (${red.minimum.x},${red.minimum.y}) outside all boxes (40x40 at (300,20))`]);
    expect(red.minimum.x).toBeLessThan(300); // it is at the light, around x 210
    const green = lines[6];
    expect(green.reasons).toEqual(['predicted green (99.24%), expected red']);
    expect(lines.filter((l) => l.pass).length).toBe(5);
    expect(r.err).toMatch(/5 passed, 2 failed/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/tests="7" failures="2" errors="0"/);
    expect(xml).toContain('<failure message="red minimum at (');
  });

  it('an unreadable image is an error case, the others still run', async () => {
    const file = path.join(dir, 'missing.json');
    writeFileSync(file, JSON.stringify({ model: rel(EMBEDDED_MODEL), cases: [{ image: 'nope.jpg', class: 'red' }, { image: rel(path.join(FIXTURES, RED)), class: 'red' }] }));
    const junit = path.join(dir, 'missing.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL nope\.jpg: .*nope\.jpg: no such file/m);
    expect(r.out).toMatch(/^PASS .*red-single/m);
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

describe('expected failures ("expect": "fail")', () => {
  const write = (name: string, cases: object[]) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify({ patch: 64, stride: 32, cases }));
    return file;
  };
  const green = () => path.join(FIXTURES, 'green-single.jpg');
  const red = () => path.join(FIXTURES, RED);

  it('a known miss that fails is XFAIL: exit 0, <skipped type="xfail"> in JUnit, its status in JSON', async () => {
    const file = write('xfail.json', [{ image: green(), class: 'red', expect: 'fail', reason: 'a green frame labelled red' }, { image: red(), class: 'red' }]);
    const junit = path.join(dir, 'xfail.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`XFAIL ${green()}: predicted green (99.24%), expected red (expected to fail: a green frame labelled red)`);
    expect(r.out).toMatch(/\n1 passed, 0 failed, 1 expected to fail; backend /);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="occlude check" tests="2" failures="0" errors="0" skipped="1"/);
    expect(xml).toContain('<skipped message="expected to fail (a green frame labelled red): predicted green (99.24%), expected red" type="xfail"/>');
    const j = await cli(['check', file, '--workers', '1', '--json']);
    const lines = j.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.status, l.pass, l.expect, l.expectReason])).toEqual([['xfail', false, 'fail', 'a green frame labelled red'], ['pass', true, 'pass', null]]);
  });

  it('a known miss that passes is XPASS and fails the check (exit 1), so that the mark comes off', async () => {
    const file = write('xpass.json', [{ image: red(), class: 'red', expect: 'fail', reason: 'thought to be missed' }]);
    const junit = path.join(dir, 'xpass.xml');
    const r = await cli(['check', file, '--junit', junit, '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^XPASS .*red-single\.jpg: predicted red \(99\.36%\) \(expected to fail: thought to be missed; it passes now: take "expect": "fail" off the case\)$/m);
    expect(r.out).toMatch(/\n0 passed, 0 failed, 1 passed unexpectedly; backend /);
    expect(readFileSync(junit, 'utf8')).toMatch(/failures="1" errors="0" skipped="0"[^]*<failure message="passed, but expected to fail \(thought to be missed\): take &quot;expect&quot;: &quot;fail&quot; off the case" type="xpass">/);
  });

  it('"expect" is pass or fail, and "fail" needs a reason', () => {
    expect(() => parseManifest({ cases: [{ image: 'a.jpg', expect: 'fail' }] }, 'm.json', EMBEDDED_MODEL)).toThrow(/^m\.json: case 1 \(a\.jpg\): "expect": "fail" needs a "reason" \(why the case is expected to fail\)$/);
    expect(() => parseManifest({ cases: [{ image: 'a.jpg', expect: 'maybe' }] }, 'm.json', EMBEDDED_MODEL)).toThrow(/^m\.json: case 1 \(a\.jpg\): Expected pass or fail for expect but received "maybe"$/);
  });
});
