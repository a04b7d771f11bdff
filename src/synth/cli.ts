#!/usr/bin/env node
/**
 * npm run synth -- --count N --seed S --out DIR [--size WxH] [--start I] [--concurrency C] [--looks]
 * npm run synth -- --fixtures --out fixtures
 *
 * --looks: half the frames get a camera look of their lit lamps (CameraLook in scene.ts: clipped,
 * desaturated, hue-shifted lamps); the other half, and every frame without --looks, are the same
 * bytes as without it.
 *
 * Writes N procedurally generated dash-cam frames (JPEG) and DIR/manifest.json.
 * The same arguments always give byte-identical files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFrame, type Frame } from './render.js';
import { evidenceOf, type Manifest, type ManifestCase } from './manifest.js';
import { FIXTURES, FIXTURE_SEED } from './fixtures.js';

interface Args {
  count: number;
  seed: number;
  out: string;
  width: number;
  height: number;
  start: number;
  concurrency: number;
  fixtures: boolean;
  looks: boolean;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`synth: ${msg}\n`);
  process.stderr.write('usage: synth --count N --seed S --out DIR [--size WxH] [--start I] [--concurrency C] [--looks]\n       synth --fixtures [--out fixtures]\n');
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { count: 0, seed: 1, out: '', width: 455, height: 256, start: 0, concurrency: 2, fixtures: false, looks: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) usage(`missing value for ${k}`);
      return x;
    };
    const int = (s: string): number => {
      if (!/^-?\d+$/.test(s)) usage(`not an integer: ${s}`);
      return Number(s);
    };
    switch (k) {
      case '--count': a.count = int(v()); break;
      case '--seed': a.seed = int(v()); break;
      case '--out': a.out = v(); break;
      case '--start': a.start = int(v()); break;
      case '--concurrency': a.concurrency = Math.max(1, int(v())); break;
      case '--fixtures': a.fixtures = true; break;
      case '--looks': a.looks = true; break;
      case '--size': {
        const m = /^(\d+)x(\d+)$/.exec(v());
        if (!m) usage('--size wants WIDTHxHEIGHT, e.g. 640x360');
        a.width = Number(m[1]);
        a.height = Number(m[2]);
        if (a.width < 64 || a.height < 64) usage('--size too small');
        break;
      }
      case '-h':
      case '--help': usage();
      default: usage(`unknown argument ${k}`);
    }
  }
  if (a.fixtures && !a.out) a.out = 'fixtures';
  if (!a.out) usage('--out is required');
  if (!a.fixtures && a.count <= 0) usage('--count must be positive');
  return a;
}

async function pool<T>(n: number, conc: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, n) }, worker));
  return out;
}

/** A frame's manifest entry (the same for data sets and fixtures; `note` only for fixtures). */
function caseOf(image: string, { scene, visibility }: Frame, note?: string): ManifestCase {
  const c: ManifestCase = { image, class: scene.cls, evidence: evidenceOf(scene.cls, scene.lights), lights: scene.lights, time: scene.time, visibility, note };
  if (scene.look) {
    const { redHue, greenHue, blow, desat, halo } = scene.look;
    const r2 = (v: number): number => Math.round(v * 100) / 100;
    c.look = { redHue: r2(redHue), greenHue: r2(greenHue), blow: r2(blow), desat: r2(desat), halo: r2(halo) };
  }
  return c;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  await mkdir(a.out, { recursive: true });
  let cases: ManifestCase[];
  let command: string;
  if (a.fixtures) {
    command = 'npm run fixtures';
    cases = await pool(FIXTURES.length, a.concurrency, async (i) => {
      const spec = FIXTURES[i]!;
      const width = spec.opts.width ?? 455;
      const height = spec.opts.height ?? 256;
      const frame = await generateFrame(FIXTURE_SEED, i, { ...spec.opts, width, height });
      await writeFile(join(a.out, spec.image), frame.jpeg);
      return caseOf(spec.image, frame, spec.note);
    });
  } else {
    command = `npm run synth -- --count ${a.count} --seed ${a.seed} --size ${a.width}x${a.height}${a.start ? ` --start ${a.start}` : ''}${a.looks ? ' --looks' : ''}`;
    const digits = Math.max(5, String(a.start + a.count - 1).length);
    let done = 0;
    cases = await pool(a.count, a.concurrency, async (i) => {
      const idx = a.start + i;
      const image = `frame-${String(idx).padStart(digits, '0')}.jpg`;
      const frame = await generateFrame(a.seed, idx, { width: a.width, height: a.height }, a.looks);
      await writeFile(join(a.out, image), frame.jpeg);
      if (++done % 500 === 0) process.stderr.write(`synth: ${done}/${a.count}\n`);
      return caseOf(image, frame);
    });
  }
  const manifest: Manifest = {
    model: 'models/traffic-light',
    patch: 32,
    stride: 16,
    generator: { seed: a.fixtures ? FIXTURE_SEED : a.seed, count: cases.length, width: a.width, height: a.height, command },
    cases,
  };
  await writeFile(join(a.out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`synth: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
