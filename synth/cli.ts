#!/usr/bin/env node
/**
 * npm run synth -- --count N --seed S --out DIR [--size WxH] [--start I] [--concurrency C] [--looks] [--bonnet]
 * npm run fixtures                  (= npm run synth -- --fixtures --out fixtures)
 *
 * Writes N procedurally generated dash-cam frames (JPEG) and DIR/manifest.json.
 * The same arguments always give byte-identical files. Arguments are parsed with commander, as the CLI's are.
 *
 * --looks: half the frames get a camera look of their lit lamps (CameraLook in scene.ts: clipped,
 * desaturated, hue-shifted lamps); the other half, and every frame without --looks, are the same
 * bytes as without it.
 * --bonnet: half the frames get the car's bonnet with the lit lamps' reflections in it (drawBonnet in
 * scene.ts); the same rule of bytes holds.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { generateFrame, type Frame } from './render.js';
import { evidenceOf, type Manifest, type ManifestCase } from './manifest.js';
import { FIXTURES, FIXTURE_SEED } from './fixtures.js';

export interface SynthArgs {
  count: number;
  seed: number;
  out: string;
  width: number;
  height: number;
  start: number;
  concurrency: number;
  fixtures: boolean;
  looks: boolean;
  bonnet: boolean;
}

function int(s: string): number {
  if (!/^-?\d+$/.test(s)) throw new InvalidArgumentError(`not an integer: ${s}`);
  return Number(s);
}

function size(s: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new InvalidArgumentError('--size wants WIDTHxHEIGHT, e.g. 640x360');
  const [width, height] = [Number(m[1]), Number(m[2])];
  if (width < 64 || height < 64) throw new InvalidArgumentError('--size too small');
  return { width, height };
}

/** The arguments, checked; a usage error throws a CommanderError (exit code 2) after commander has said why. */
export function parseArgs(argv: string[], writeErr: (s: string) => void = (s) => process.stderr.write(s)): SynthArgs {
  const program = new Command('synth')
    .description('Procedurally generated dash-cam frames (JPEG) and their manifest.json; the same arguments give the same bytes.')
    .option('--count <n>', 'frames to write', int, 0)
    .option('--seed <s>', 'random seed', int, 1)
    .option('--out <dir>', 'output folder (with --fixtures: fixtures)')
    .option('--size <WxH>', 'frame size', size, { width: 455, height: 256 })
    .option('--start <i>', 'index of the first frame', int, 0)
    .option('--concurrency <c>', 'frames rendered at once', int, 2)
    .option('--fixtures', "the named fixture cases (the test suite's fixtures/)")
    .option('--looks', 'camera looks (clipped, desaturated, hue-shifted lamps) on half the frames')
    .option('--bonnet', "the car's bonnet, with the lit lamps' reflections in it, on half the frames")
    .exitOverride((err) => {
      throw new CommanderError(err.exitCode === 0 ? 0 : 2, err.code, err.message);
    })
    .configureOutput({ writeErr });
  program.parse(argv, { from: 'user' });
  const o = program.opts<{ count: number; seed: number; out?: string; size: { width: number; height: number }; start: number; concurrency: number; fixtures?: boolean; looks?: boolean; bonnet?: boolean }>();
  const fixtures = o.fixtures === true;
  const out = o.out ?? (fixtures ? 'fixtures' : '');
  if (!out) program.error('error: --out is required', { exitCode: 2 });
  if (!fixtures && o.count <= 0) program.error('error: --count must be positive', { exitCode: 2 });
  return { count: o.count, seed: o.seed, out, width: o.size.width, height: o.size.height, start: o.start, concurrency: Math.max(1, o.concurrency), fixtures, looks: o.looks === true, bonnet: o.bonnet === true };
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

/** A frame's manifest entry (the same for data sets and fixtures; `note` and a known miss only for fixtures). */
function caseOf(image: string, { scene, visibility }: Frame, note?: string, knownMiss?: string): ManifestCase {
  const miss = knownMiss ? { expect: 'fail' as const, reason: knownMiss } : {};
  const c: ManifestCase = { image, class: scene.cls, evidence: evidenceOf(scene.cls, scene.lights), lights: scene.lights, time: scene.time, visibility, note, ...miss };
  if (scene.look) {
    const { redHue, greenHue, blow, desat, halo } = scene.look;
    const r2 = (v: number): number => Math.round(v * 100) / 100;
    c.look = { redHue: r2(redHue), greenHue: r2(greenHue), blow: r2(blow), desat: r2(desat), halo: r2(halo) };
  }
  return c;
}

/** Write the frames (or the fixtures) and their manifest. */
export async function synth(a: SynthArgs): Promise<void> {
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
      return caseOf(spec.image, frame, spec.note, spec.knownMiss);
    });
  } else {
    command = `npm run synth -- --count ${a.count} --seed ${a.seed} --size ${a.width}x${a.height}${a.start ? ` --start ${a.start}` : ''}${a.looks ? ' --looks' : ''}${a.bonnet ? ' --bonnet' : ''}`;
    const digits = Math.max(5, String(a.start + a.count - 1).length);
    let done = 0;
    cases = await pool(a.count, a.concurrency, async (i) => {
      const idx = a.start + i;
      const image = `frame-${String(idx).padStart(digits, '0')}.jpg`;
      const frame = await generateFrame(a.seed, idx, { width: a.width, height: a.height }, a.looks, a.bonnet);
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

// run as a program (node .../cli.js ...), not when imported (the tests call parseArgs and synth)
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await synth(parseArgs(process.argv.slice(2)));
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    process.stderr.write(`synth: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  }
}
