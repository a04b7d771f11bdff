/** The check rules: where a heat-map's minimum (or its probability drop) lies against the evidence boxes, and each case's outcome. */
import { percent } from './format.js';
import type { Rect } from '../plan/grid.js';
import { shownPath } from '../errors.js';
import type { Rule } from '../options.js';
import type { Expect } from './manifest.js';

export type { CheckManifest, CheckCase, Expect } from './manifest.js';

/**
 * What became of a case: it passed; it failed (or could not be processed: error); it failed as its
 * manifest expects (xfail); it passed although expected to fail (xpass: a failure of the check); or
 * it never ran (not-run: the run was cut short).
 */
export type CaseStatus = 'pass' | 'fail' | 'error' | 'xfail' | 'xpass' | 'not-run';

/** Whether a case is as it should be: it passed, or it failed as expected. */
export const isOk = (s: CaseStatus): boolean => s === 'pass' || s === 'xfail';

export interface MinimumPoint {
  x: number;
  y: number;
  value: number;
  /** bounding box of the minimum region (the 4-connected pixels equal to the minimum around the first one) */
  region: Rect;
}

/**
 * The minimum of a heat-map as one point. The map is piecewise constant (cells of the patch
 * grid), so the lowest value usually covers a region: the point is the centroid (rounded) of the
 * 4-connected region of pixels equal to the minimum that holds the first minimum pixel in
 * row-major order.
 */
export function minimumPoint(map: ArrayLike<number>, width: number, height: number): MinimumPoint {
  let first = 0;
  for (let i = 1; i < width * height; i++) if (map[i] < map[first]) first = i;
  const value = map[first];
  const seen = new Uint8Array(width * height);
  const stack = [first];
  seen[first] = 1;
  let sx = 0;
  let sy = 0;
  let n = 0;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % width;
    const y = (i - x) / width;
    sx += x;
    sy += y;
    n++;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
    const next = [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, y > 0 ? i - width : -1, y < height - 1 ? i + width : -1];
    for (const j of next) {
      if (j >= 0 && !seen[j] && map[j] === value) {
        seen[j] = 1;
        stack.push(j);
      }
    }
  }
  return { x: Math.round(sx / n), y: Math.round(sy / n), value, region: { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 } };
}

/**
 * Where the map's minimum value is reached inside a box: the first box (in order) that holds a pixel
 * equal to the minimum, and the point shown for it (the rounded centroid of those pixels when it is
 * one of them, else the first of them in row-major order). Null when no box holds one.
 */
export function minimumInBoxes(map: ArrayLike<number>, width: number, height: number, value: number, boxes: Rect[]): { box: Rect; x: number; y: number } | null {
  for (const box of boxes) {
    const x0 = Math.max(0, Math.ceil(box.left));
    const y0 = Math.max(0, Math.ceil(box.top));
    const x1 = Math.min(width, Math.ceil(box.left + box.width));
    const y1 = Math.min(height, Math.ceil(box.top + box.height));
    let n = 0;
    let sx = 0;
    let sy = 0;
    let first: [number, number] | null = null;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        if (map[y * width + x] !== value) continue;
        first ??= [x, y];
        n++;
        sx += x;
        sy += y;
      }
    }
    if (!first) continue;
    const cx = Math.round(sx / n);
    const cy = Math.round(sy / n);
    if (inBox(cx, cy, box) && map[cy * width + cx] === value) return { box, x: cx, y: cy };
    return { box, x: first[0], y: first[1] };
  }
  return null;
}

export function inBox(x: number, y: number, b: Rect): boolean {
  return x >= b.left && x < b.left + b.width && y >= b.top && y < b.top + b.height;
}

/** The share of the probability drop, max(0, probability - map), that lies inside the boxes (their union). */
export function energyShare(map: ArrayLike<number>, width: number, height: number, probability: number, boxes: Rect[]): { share: number; total: number } {
  let total = 0;
  let inside = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = Math.max(0, probability - map[y * width + x]);
      if (!d) continue;
      total += d;
      if (boxes.some((b) => inBox(x, y, b))) inside += d;
    }
  }
  return { share: total > 0 ? inside / total : 0, total };
}

export const boxText = (b: Rect) => `${b.width}x${b.height} at (${b.left},${b.top})`;

export interface CaseOutcome {
  name: string;
  image: string;
  pass: boolean;
  /** why it failed (empty when it passed) */
  reasons: string[];
  /** one line: what was found */
  detail: string;
  predicted: string | null;
  probability: number | null;
  expected: string | null;
  /** the class of the heat-map */
  class: string | null;
  rule: Rule | null;
  minimum: MinimumPoint | null;
  minPatch: Rect | null;
  minProbability: number | null;
  share: number | null;
  minShare: number | null;
  evidence: Rect[] | null;
  seconds: number;
  error: string | null;
  /** false for a case that never ran (the run was interrupted or stopped before it) */
  ran: boolean;
  /** pass, fail, error, xfail (failed as expected), xpass (passed although expected to fail) or not-run */
  status: CaseStatus;
  /** what the manifest expects: pass, or fail (a known miss) */
  expect: Expect;
  /** why the case is expected to fail (null when it is expected to pass) */
  expectReason: string | null;
}

type CaseOf = { name: string; image: string; class?: string; evidence?: Rect[]; expect?: Expect; reason?: string };

function expectation(c: CaseOf): Pick<CaseOutcome, 'expect' | 'expectReason'> {
  return c.expect === 'fail' ? { expect: 'fail', expectReason: c.reason ?? '' } : { expect: 'pass', expectReason: null };
}

export interface MapInfo {
  map: ArrayLike<number>;
  width: number;
  height: number;
  /** unoccluded probability of the map's class */
  probability: number;
  class: string;
  minPatch: Rect;
  minProbability: number;
}

/** Decide one case from the prediction and (when the case has evidence) the heat-map of its class. */
export function evaluateCase(
  c: CaseOf & { rule?: Rule; minShare?: number },
  defaults: { rule: Rule; minShare: number },
  predicted: { class: string; probability: number },
  m: MapInfo | null,
  seconds = 0,
): CaseOutcome {
  const reasons: string[] = [];
  const found: string[] = [`predicted ${predicted.class} (${percent(predicted.probability)})`];
  if (c.class !== undefined && predicted.class !== c.class) reasons.push(`predicted ${predicted.class} (${percent(predicted.probability)}), expected ${c.class}`);
  const rule = c.evidence?.length ? (c.rule ?? defaults.rule) : null;
  const minShare = rule === 'energy' ? (c.minShare ?? defaults.minShare) : null;
  let minimum: MinimumPoint | null = null;
  let share: number | null = null;
  if (rule && m) {
    const boxes = c.evidence!;
    const list = boxes.map(boxText).join(', ');
    minimum = minimumPoint(m.map, m.width, m.height);
    let max = -Infinity;
    for (let i = 0; i < m.width * m.height; i++) if (m.map[i] > max) max = m.map[i];
    const flat = !(max > minimum.value);
    if (rule === 'min') {
      // the minimum value usually covers a region (a cell of the patch grid): it is inside a box when
      // any pixel at the minimum is; otherwise the region's centre is reported
      const hit = flat ? null : minimumInBoxes(m.map, m.width, m.height, minimum.value, boxes);
      if (flat) reasons.push(`the ${m.class} map has no contrast (every pixel ${minimum.value}): its minimum points nowhere`);
      else if (hit) found.push(`${m.class} minimum at (${hit.x},${hit.y}) inside box ${boxText(hit.box)}`);
      else reasons.push(`${m.class} minimum at (${minimum.x},${minimum.y}) outside all boxes (${list})`);
    } else {
      const e = energyShare(m.map, m.width, m.height, m.probability, boxes);
      share = e.share;
      if (e.total === 0) reasons.push(`occluding never lowers ${m.class}: no probability drop to share`);
      else if (e.share >= minShare!) found.push(`${percent(e.share)} of the ${m.class} probability drop inside the boxes (at least ${percent(minShare!)} needed)`);
      else reasons.push(`only ${percent(e.share)} of the ${m.class} probability drop inside the boxes (${list}); at least ${percent(minShare!)} needed`);
    }
  }
  return {
    name: c.name,
    image: c.image,
    pass: reasons.length === 0,
    reasons,
    detail: found.join('; '),
    predicted: predicted.class,
    probability: predicted.probability,
    expected: c.class ?? null,
    class: m?.class ?? null,
    rule,
    minimum,
    minPatch: m?.minPatch ?? null,
    minProbability: m?.minProbability ?? null,
    share,
    minShare,
    evidence: c.evidence ?? null,
    seconds: Math.round(seconds * 1000) / 1000,
    error: null,
    ran: true,
    status: reasons.length ? (c.expect === 'fail' ? 'xfail' : 'fail') : c.expect === 'fail' ? 'xpass' : 'pass',
    ...expectation(c),
  };
}

export function errorOutcome(c: CaseOf, error: string, seconds = 0): CaseOutcome {
  return {
    name: c.name,
    image: c.image,
    pass: false,
    reasons: [error],
    detail: '',
    predicted: null,
    probability: null,
    expected: c.class ?? null,
    class: null,
    rule: null,
    minimum: null,
    minPatch: null,
    minProbability: null,
    share: null,
    minShare: null,
    evidence: c.evidence ?? null,
    seconds: Math.round(seconds * 1000) / 1000,
    error,
    ran: true,
    status: 'error',
    ...expectation(c),
  };
}

/** A case that did not run: an error, so that a run cut short never looks green. */
export function notRunOutcome(c: CaseOf, why: string): CaseOutcome {
  return { ...errorOutcome(c, `not run: ${why}`), ran: false, status: 'not-run' };
}

/**
 * `PASS name: details` or `FAIL name: reasons`; a known miss reads `XFAIL name: reasons (expected to
 * fail: why)`, and one that passes `XPASS name: details (expected to fail: why; ...)`.
 */
export function outcomeLine(o: CaseOutcome): string {
  const name = shownPath(o.name);
  if (o.status === 'xfail') return `XFAIL ${name}: ${o.reasons.join('; ')} (expected to fail: ${o.expectReason})`;
  if (o.status === 'xpass') return `XPASS ${name}: ${o.detail} (expected to fail: ${o.expectReason}; it passes now: take "expect": "fail" off the case)`;
  return o.pass ? `PASS ${name}: ${o.detail}` : `FAIL ${name}: ${o.reasons.join('; ')}`;
}
