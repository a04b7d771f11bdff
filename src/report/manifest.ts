/** The manifest reader of `occlude check`: a manifest's cases, validated with the options' validators. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readTextFile } from '../files.js';
import { resolveEmbedded } from '../model/embedded.js';
import type { Rect } from '../plan/grid.js';
import { usageError, messageOf } from '../errors.js';
import { DEFAULTS, RULES, patchAndStride, strideWithinPatch, positiveInteger, numberBetween, oneOf, describeFill, prefixed, type Rule } from '../options.js';

/**
 * `occlude check` manifests:
 *   {"model": "models/traffic-light", "patch": 32, "stride": 16,
 *    "cases": [{"image": "red-single.jpg", "class": "red",
 *               "evidence": [{"left": 210, "top": 40, "width": 12, "height": 30}]}]}
 * Relative paths resolve against the manifest's folder.
 */
export type { Rule };

export interface CheckCase {
  image: string;
  /** shown in the output and JUnit; default the image path as written */
  name?: string;
  /** the class the model must predict; also the class of the heat-map (default: the predicted class) */
  class?: string;
  /** where the evidence is; without it only the class is checked */
  evidence?: Rect[];
  /** min (default): the map's minimum lies in a box; energy: at least minShare of the probability drop does */
  rule?: Rule;
  minShare?: number;
  patch?: number;
  stride?: number;
  /** "fail": a known miss, expected to fail (with `reason`); when it passes, the check fails, so that the mark comes off */
  expect?: Expect;
  reason?: string;
}

export type Expect = 'pass' | 'fail';

export interface CheckManifest {
  /** the manifest file */
  file: string;
  /** resolved model folder (null: the embedded model) */
  model: string | null;
  patch: number;
  stride: number;
  fill?: string;
  rule: Rule;
  minShare: number;
  cases: (CheckCase & { file: string; name: string })[];
}

function isBox(b: unknown): b is Rect {
  if (!b || typeof b !== 'object') return false;
  const r = b as Record<string, unknown>;
  return ['left', 'top', 'width', 'height'].every((k) => typeof r[k] === 'number' && Number.isFinite(r[k] as number)) && (r.width as number) > 0 && (r.height as number) > 0;
}

/**
 * Read and validate a manifest; `embeddedModel` is used for "models/traffic-light" when no such folder is beside
 * the manifest, and "embedded:NAME" names any embedded model.
 */
export async function readManifest(file: string, embeddedModel: string): Promise<CheckManifest> {
  const text = await readTextFile(file);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw usageError(`${file}: not valid JSON (${messageOf(err)})`, file);
  }
  return parseManifest(raw, file, embeddedModel);
}

/** Validate a manifest with the options' validators (options.ts); a message names the file and the case. */
export function parseManifest(raw: unknown, file: string, embeddedModel: string): CheckManifest {
  const bad = (what: string) => usageError(`${file}: ${what}`, file);
  const valid = <T>(where: string, fn: () => T): T => prefixed(`${file}: ${where}`, fn, file);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('a manifest is a JSON object with "cases"');
  const m = raw as Record<string, unknown>;
  const dir = path.dirname(path.resolve(file));
  let model: string | null = null;
  if (m.model !== undefined) {
    if (typeof m.model !== 'string' || !m.model) throw bad('"model" must be a path');
    const resolved = path.resolve(dir, m.model);
    const norm = m.model.replace(/\\/g, '/').replace(/\/+$/, '');
    if (existsSync(resolved)) model = resolved;
    else if (norm === 'models/traffic-light' || norm === 'embedded') model = embeddedModel;
    else if (norm.startsWith('embedded:')) model = valid('', () => resolveEmbedded(norm));
    else model = resolved;
  }
  const { patch, stride } = valid('', () => patchAndStride(m.patch ?? DEFAULTS.patch, m.stride));
  const rule = valid('', () => oneOf('rule', m.rule ?? DEFAULTS.rule, RULES, 'min or energy'));
  const minShare = valid('', () => numberBetween('minShare', m.minShare ?? DEFAULTS.minShare, 0, 1, true));
  const fill = m.fill === undefined ? undefined : valid('', () => describeFill(m.fill));
  if (!Array.isArray(m.cases) || !m.cases.length) throw bad('"cases" must be a non-empty list');
  const names = new Set<string>();
  const cases = m.cases.map((c: unknown, i: number) => {
    const where = `case ${i + 1}`;
    if (!c || typeof c !== 'object') throw bad(`${where} is not an object`);
    const k = c as Record<string, unknown>;
    if (typeof k.image !== 'string' || !k.image) throw bad(`${where} has no "image"`);
    const at = `${where} (${k.image}): `;
    if (k.class !== undefined && typeof k.class !== 'string') throw bad(`${at}"class" must be a string`);
    if (k.evidence !== undefined && (!Array.isArray(k.evidence) || !k.evidence.every(isBox))) {
      throw bad(`${at}"evidence" must be a list of {left, top, width, height} boxes`);
    }
    if (k.rule !== undefined) valid(at, () => oneOf('rule', k.rule, RULES, 'min or energy'));
    if (k.minShare !== undefined) valid(at, () => numberBetween('minShare', k.minShare, 0, 1, true));
    if (k.patch !== undefined) valid(at, () => positiveInteger('patch', k.patch));
    if (k.stride !== undefined) valid(at, () => positiveInteger('stride', k.stride));
    if (k.expect !== undefined) valid(at, () => oneOf('expect', k.expect, ['pass', 'fail'] as const, 'pass or fail'));
    if (k.expect === 'fail' && (typeof k.reason !== 'string' || !k.reason.trim())) throw bad(`${at}"expect": "fail" needs a "reason" (why the case is expected to fail)`);
    valid(at, () => strideWithinPatch((k.patch as number | undefined) ?? patch, (k.stride as number | undefined) ?? stride));
    let name = typeof k.name === 'string' && k.name ? k.name : k.image;
    for (let n = 2; names.has(name); n++) name = `${k.image} #${n}`;
    names.add(name);
    return {
      image: k.image,
      file: path.resolve(dir, k.image),
      name,
      class: k.class as string | undefined,
      evidence: k.evidence as Rect[] | undefined,
      rule: k.rule as Rule | undefined,
      minShare: k.minShare as number | undefined,
      patch: k.patch as number | undefined,
      stride: k.stride as number | undefined,
      expect: k.expect as Expect | undefined,
      reason: k.expect === 'fail' ? (k.reason as string) : undefined,
    };
  });
  return { file, model, patch, stride, fill, rule, minShare, cases };
}
