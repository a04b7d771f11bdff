import path from 'node:path';
import type { InputSpec } from '../model/metadata.js';
import { usageError } from '../errors.js';
import { readTextFile, isMissing } from '../files.js';
import { writeFileAtomic } from '../files.js';

/**
 * DIR/run.json: the settings of the run that wrote an --out folder. Rows computed with other settings
 * must not mix with its rows (the summary and the page would show one run's header over another's
 * results), so a later run into the folder must use the same settings.
 */
export const RUN_FILE = 'run.json';

export interface RunSettings {
  /** the model: its path (embedded:traffic-light for the embedded model) and a SHA-256 of model.json and its weight files */
  model: { path: string; sha256: string | null };
  labels: string[];
  /** the target class; null: each image's predicted class */
  class: string | null;
  patch: number;
  stride: number;
  fill: string;
  mode: 'prob' | 'drop';
  iterate: number;
  /** the preprocessing: what the model is given */
  input: { size: [number, number]; fit: string; maxWidth?: number; chooseScale?: string; channels: number; resize: [number, number] | null; crop: string; range: [number, number]; mean: number[] | null; std: number[] | null; order: string };
}

export interface RunFile {
  settings: RunSettings;
  /** the folder the run was started in: the summary's relative image paths are relative to it */
  cwd: string;
  written: string;
  /** `--shard K/N`: the part of the inputs this folder holds */
  shard?: { index: number; count: number };
  /** false while a run writes into the folder, and when it was interrupted or stopped; true when it went through its inputs */
  complete?: boolean;
  /** `occlude merge`: the folders merged into this one */
  mergedFrom?: string[];
}

export function inputSettings(spec: InputSpec): RunSettings['input'] {
  // maxWidth (and chooseScale) only when it lets frames be wider than size (run.json files stay as they were otherwise)
  const wider = spec.maxWidth > spec.width ? { maxWidth: spec.maxWidth, ...(spec.chooseScale === null ? {} : { chooseScale: spec.chooseScale }) } : {};
  return { size: [spec.height, spec.width], fit: spec.fit, ...wider, channels: spec.channels, resize: spec.resize, crop: spec.crop, range: spec.range, mean: spec.mean, std: spec.std, order: spec.order };
}

const shown = (v: unknown): string => (v === null || v === undefined ? 'none' : Array.isArray(v) ? v.join(',') : String(v));

/** What differs between the settings of the folder's run and this run's, one phrase each: `patch 32 (was 128)`. */
export function settingsDiff(was: RunSettings, now: RunSettings): string[] {
  const out: string[] = [];
  const a = was.model;
  const b = now.model;
  const sameModel = a.sha256 && b.sha256 ? a.sha256 === b.sha256 : a.path === b.path;
  if (!sameModel) out.push(`model ${b.path} (sha256 ${b.sha256?.slice(0, 12) ?? 'unknown'}) (was ${a.path}, sha256 ${a.sha256?.slice(0, 12) ?? 'unknown'})`);
  if (shown(was.labels) !== shown(now.labels)) out.push(`labels ${shown(now.labels)} (was ${shown(was.labels)})`);
  if (was.class !== now.class) out.push(`class ${now.class ?? 'the predicted class'} (was ${was.class ?? 'the predicted class'})`);
  for (const k of ['patch', 'stride', 'fill', 'mode', 'iterate'] as const) {
    if (was[k] !== now[k]) out.push(`${k} ${now[k]} (was ${was[k]})`);
  }
  // run.json files written before input.fit existed: every frame was stretched
  const wasInput: Partial<RunSettings['input']> = { ...was.input, fit: was.input?.fit ?? 'stretch' };
  // maxWidth and chooseScale are there only when one of the runs had them
  for (const k of new Set([...Object.keys(now.input), ...Object.keys(wasInput)]) as Set<keyof RunSettings['input']>) {
    const v = (x: unknown) => (k === 'size' && Array.isArray(x) ? x.join('x') : shown(x));
    if (v(wasInput[k]) !== v(now.input[k])) out.push(`preprocessing ${k} ${v(now.input[k])} (was ${v(wasInput[k])})`);
  }
  return out;
}

/** The run file of a folder, or null when it has none (a new folder, or one written before run.json existed). */
export async function readRunFile(dir: string): Promise<RunFile | null> {
  const file = path.join(dir, RUN_FILE);
  let text: string;
  try {
    text = await readTextFile(file, { maxBytes: 1024 ** 2 });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  try {
    const run = JSON.parse(text) as RunFile;
    if (run && typeof run.settings === 'object' && run.settings) return run;
  } catch {
    // reported below
  }
  throw usageError(`${file}: not a run file of occlude; use another --out (or delete it)`, file);
}

/**
 * Check this run's settings against the folder's run file: a difference is a usage error naming each.
 * Returns the folder the earlier run was started in (null when there was none).
 */
export async function checkRunFile(dir: string, settings: RunSettings, shard?: RunFile['shard']): Promise<string | null> {
  const was = await readRunFile(dir);
  if (!was) return null;
  const diff = settingsDiff(was.settings, settings);
  const name = (s: RunFile['shard']) => (s ? `shard ${s.index}/${s.count}` : 'no shard');
  if (name(was.shard) !== name(shard)) diff.push(`${name(shard)} (was ${name(was.shard)})`);
  if (diff.length) {
    const file = path.join(dir, RUN_FILE);
    throw usageError(`${file}: this folder holds results of other settings: ${diff.join(', ')}; use the same settings, or another --out`, file);
  }
  return typeof was.cwd === 'string' ? was.cwd : null;
}

/** Record the settings (and the folder relative image paths start from) in the folder's run file. */
export async function writeRunFile(dir: string, settings: RunSettings, cwd: string, more: Pick<RunFile, 'shard' | 'complete' | 'mergedFrom'> = {}): Promise<void> {
  const run: RunFile = { settings, cwd, written: new Date().toISOString(), ...more };
  await writeFileAtomic(path.join(dir, RUN_FILE), JSON.stringify(run, null, 1) + '\n');
}
