import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const SEED_A = path.join(SHARED, 'seed-model', 'nexar-squeezenet-a');
export const DASHCAM = path.join(SHARED, 'dashcam');
export const REFERENCE = path.join(DASHCAM, 'reference');
export const BIN = path.join(ROOT, 'bin', 'occlude.js');
/** Debian's Chromium, for the report page test of the full tier (never a downloaded browser) */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Shared test data must be there: a missing ../shared is a failure, never a skip. */
export function shared(...parts: string[]): string {
  const p = path.join(SHARED, ...parts);
  if (!existsSync(p)) throw new Error(`test data missing: ${p} (the tests need ../shared beside the project)`);
  return p;
}

export interface ReferenceFrame {
  height: number;
  width: number;
  class: string;
  variants: number;
  probabilities: Record<string, number[]>;
  min_probability: number;
  min_patch: { top: number; left: number; size: number };
  map_file: string;
}

export function reference(): { patch: number; stride: number; frames: Record<string, ReferenceFrame> } {
  return JSON.parse(readFileSync(shared('dashcam', 'reference', 'reference.json'), 'utf8'));
}

export function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

const made = new Set<string>();

/** A new folder under the system's temporary folder; test/setup.ts removes it after the test file (OCCLUDE_KEEP_TMP=1 keeps it). */
export function tmpdir(prefix = 'occlude-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(dir);
  return dir;
}

export function removeTmpdirs(): void {
  if (process.env.OCCLUDE_KEEP_TMP) return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** A capturing Io for driving the CLI in-process. */
export function captureIo(env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s), isTTY: false },
      env,
    },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

/** Save a (small) LayersModel to a folder in the TF.js format, optionally with an occlude.json. */
export async function saveLayersModel(model: LayersModel, to: string, occludeJson?: object): Promise<string> {
  mkdirSync(to, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (art) => {
      writeFileSync(path.join(to, 'weights.bin'), Buffer.from(tf.io.CompositeArrayBuffer.join(art.weightData!)));
      writeFileSync(
        path.join(to, 'model.json'),
        JSON.stringify({ format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }] }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (occludeJson) writeFileSync(path.join(to, 'occlude.json'), JSON.stringify(occludeJson));
  return to;
}

/** Run the CLI in-process; resolves to its exit code and what it printed. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}) {
  const { run } = await import('../dist/cli/program.js');
  const c = captureIo(env);
  const code = await run(args, c.io);
  return { code, out: c.out, err: c.err };
}

/**
 * A small image classifier saved as a TF.js model: 32x32x3 input, one 3x3 convolution (2 filters, relu),
 * global average pooling, `classes` softmax outputs (random weights).
 */
export async function smallModel(to: string, classes: number, occludeJson?: object): Promise<string> {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 2, kernelSize: 3, activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: classes, activation: 'softmax' }),
    ],
  });
  return saveLayersModel(m, to, occludeJson);
}

/** This thread's tfjs on the pure-JS cpu backend, without tfjs' console advice (for tests that build models). */
export async function cpuBackend(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
}

/** Run the installed command and send `signal` once, `delay` ms after stdout has its first line; resolves to the exit code and output. */
export function interrupt(args: string[], signal: NodeJS.Signals, delay = 200): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let sent = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (!sent && out.includes('\n')) {
        sent = true; // once: a second signal ends the process outright
        setTimeout(() => child.kill(signal), delay); // during the next image or case
      }
    });
    child.on('exit', (code, sig) => resolve({ code, signal: sig, out, err }));
  });
}
