import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import sharp from 'sharp';
import { Rng } from '../synth/rng.js';
import { generateFrame } from '../synth/render.js';
import { evidenceOf } from '../synth/manifest.js';
import { unlitSvg } from '../synth/scene.js';
import { parseArgs, synth } from '../synth/cli.js';

const W = 455;
const H = 256;

describe('Rng', () => {
  it('is deterministic and seed-dependent', () => {
    const a = new Rng(7, 3);
    const b = new Rng(7, 3);
    const c = new Rng(7, 4);
    const sa = Array.from({ length: 20 }, () => a.next());
    const sb = Array.from({ length: 20 }, () => b.next());
    const sc = Array.from({ length: 20 }, () => c.next());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const v of sa) expect(v >= 0 && v < 1).toBe(true);
  });
});

describe('scene generator', () => {
  it('gives byte-identical frames for the same seed and index', async () => {
    for (const i of [0, 5]) {
      const a = await generateFrame(123, i, { width: W, height: H });
      const b = await generateFrame(123, i, { width: W, height: H });
      expect(Buffer.compare(a.jpeg, b.jpeg)).toBe(0);
      expect(a.scene.lights).toEqual(b.scene.lights);
    }
    const c = await generateFrame(124, 0, { width: W, height: H });
    const d = await generateFrame(123, 0, { width: W, height: H });
    expect(Buffer.compare(c.jpeg, d.jpeg)).not.toBe(0);
  });

  it('writes JPEGs of the requested size with sane light boxes', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const size = i % 6 === 5 ? { width: 640, height: 360 } : { width: W, height: H };
      const { jpeg, scene } = await generateFrame(99, i, size);
      const meta = await sharp(jpeg).metadata();
      expect(meta.format).toBe('jpeg');
      expect([meta.width, meta.height]).toEqual([size.width, size.height]);
      seen.add(scene.cls);
      const facing = scene.lights.filter((l) => l.state === 'red' || l.state === 'green');
      // lights facing the driver never disagree, and match the class
      for (const l of facing) expect(l.state).toBe(scene.cls);
      if (scene.cls === 'none') expect(facing).toHaveLength(0);
      else expect(facing.length).toBeGreaterThan(0);
      const k = size.height / 256;
      for (const l of scene.lights) {
        for (const v of [l.left, l.top, l.width, l.height]) expect(Number.isInteger(v)).toBe(true);
        expect(l.left).toBeGreaterThanOrEqual(0);
        expect(l.top).toBeGreaterThanOrEqual(0);
        expect(l.left + l.width).toBeLessThanOrEqual(size.width);
        expect(l.top + l.height).toBeLessThanOrEqual(size.height);
        if (l.state === 'red' || l.state === 'green') {
          expect(Math.max(l.width, l.height)).toBeGreaterThanOrEqual(Math.floor(6 * k));
          expect(Math.max(l.width, l.height)).toBeLessThanOrEqual(Math.ceil(66 * k) + 2);
        }
      }
      const ev = evidenceOf(scene.cls, scene.lights);
      expect(ev).toHaveLength(facing.length);
    }
    expect(seen.size).toBe(3);
  });

  it('draws every lit lamp visibly, also under another light\'s mast arm', async () => {
    // Frame 378 of seed 777777 (the held-out set): a nearer light's mast arm was drawn across
    // the red lamp of a frame labelled red, leaving a pinkish sliver (visibility 41 before the fix, 121 after).
    const f = await generateFrame(777777, 378, { width: W, height: H });
    expect(f.scene.cls).toBe('red');
    expect(f.visibility).toHaveLength(evidenceOf(f.scene.cls, f.scene.lights).length);
    expect(Math.min(...f.visibility)).toBeGreaterThan(80);
    for (let i = 0; i < 12; i++) {
      const g = await generateFrame(31, i, { width: W, height: H });
      if (g.scene.cls === 'none') expect(g.visibility).toEqual([]);
      else for (const v of g.visibility) expect(v).toBeGreaterThan(15);
    }
  });

  it('draws the same scene without its lit lamps for the visibility check', () => {
    const svg = '<svg><rect/><!--lit--><circle r="2"/><!--/lit--><g><!--lit--><circle r="9"/><!--/lit--></g></svg>';
    expect(unlitSvg(svg)).toBe('<svg><rect/><g></g></svg>');
  });

  it('forces the named fixture options', async () => {
    const red = await generateFrame(5, 0, { width: W, height: H, cls: 'red', facing: 1, time: 'night', otherLights: false });
    expect(red.scene.cls).toBe('red');
    expect(red.scene.time).toBe('night');
    expect(red.scene.lights).toHaveLength(1);
    const two = await generateFrame(5, 1, { width: W, height: H, cls: 'green', facing: 2, otherLights: false });
    expect(two.scene.lights.filter((l) => l.state === 'green')).toHaveLength(2);
    const none = await generateFrame(5, 2, { width: W, height: H, cls: 'none', otherLights: false });
    expect(none.scene.lights).toHaveLength(0);
  });
});

describe('synth CLI', () => {
  it('writes N frames and a manifest, identically for the same seed', async () => {
    const a = mkdtempSync(join(tmpdir(), 'synth-a-'));
    const b = mkdtempSync(join(tmpdir(), 'synth-b-'));
    try {
      for (const d of [a, b]) await synth(parseArgs(['--count', '6', '--seed', '31', '--out', d]));
      const files = readdirSync(a).sort();
      expect(files).toHaveLength(7);
      for (const f of files) expect(Buffer.compare(readFileSync(join(a, f)), readFileSync(join(b, f)))).toBe(0);
      const m = JSON.parse(readFileSync(join(a, 'manifest.json'), 'utf8'));
      expect(m.cases).toHaveLength(6);
      for (const c of m.cases) {
        expect(existsSync(join(a, c.image))).toBe(true);
        expect(['none', 'red', 'green']).toContain(c.class);
        expect(Array.isArray(c.evidence)).toBe(true);
      }
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('refuses bad arguments (usage errors, exit code 2)', () => {
    let said = '';
    const err = (argv: string[]) => {
      try {
        parseArgs(argv, (s) => (said += s));
      } catch (e) {
        return e as { exitCode: number };
      }
      throw new Error(`accepted: ${argv.join(' ')}`);
    };
    expect(err(['--count', '0', '--out', 'x']).exitCode).toBe(2);
    expect(err(['--count', '2', '--out', 'x', '--size', '10x10']).exitCode).toBe(2);
    expect(err(['--count', 'many', '--out', 'x']).exitCode).toBe(2);
    expect(said).toMatch(/--count must be positive[^]*--size too small[^]*not an integer: many/);
    expect(parseArgs(['--fixtures'])).toMatchObject({ fixtures: true, out: 'fixtures', width: 455, height: 256, concurrency: 2, looks: false, bonnet: false });
    expect(parseArgs(['--count', '3', '--out', 'x', '--bonnet'])).toMatchObject({ count: 3, looks: false, bonnet: true });
  });
});

describe('fixtures/manifest.json', () => {
  const dir = join(process.cwd(), 'fixtures');
  it('lists existing frames with boxes inside them', async () => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.model).toBe('models/traffic-light');
    expect(m.patch).toBe(32);
    expect(m.stride).toBe(16);
    const names = m.cases.map((c: { image: string }) => c.image);
    for (const n of ['red-single.jpg', 'green-double.jpg', 'parking-sign.jpg', 'no-light.jpg', 'night-red.jpg', 'night-green.jpg']) {
      expect(names).toContain(n);
    }
    for (const c of m.cases) {
      const meta = await sharp(join(dir, c.image)).metadata();
      if (c.class === 'none') expect(c.evidence).toEqual([]);
      else expect(c.evidence.length).toBeGreaterThan(0);
      for (const b of c.evidence) {
        expect(b.left + b.width).toBeLessThanOrEqual(meta.width!);
        expect(b.top + b.height).toBeLessThanOrEqual(meta.height!);
      }
    }
    const gd = m.cases.find((c: { image: string }) => c.image === 'green-double.jpg');
    expect(gd.evidence).toHaveLength(2);
  });

  it('is what `npm run fixtures` writes (frames and manifest), known misses marked "expect": "fail" with a reason', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fixtures-'));
    try {
      await synth(parseArgs(['--fixtures', '--out', out]));
      for (const f of readdirSync(dir).filter((n) => n === 'manifest.json' || n.endsWith('.jpg'))) expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(dir, f))), f).toBe(0);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      const misses = m.cases.filter((c: { expect?: string }) => c.expect === 'fail');
      expect(misses.map((c: { image: string }) => c.image)).toEqual(['night-green.jpg']);
      for (const c of misses) expect(c.reason.length).toBeGreaterThan(10);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
