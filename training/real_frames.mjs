#!/usr/bin/env node
// Real frames (for reporting only, never for training): a model's class on the 18 labelled frames of
// ../shared/realval and the six of ../shared/dashcam, and the pointing game on the realval frames
// with boxes, exactly as `occlude check` runs them (patch 64, stride 32, the model's own
// preprocessing). A frame's pointing hit: the minimum of the true class's map (the centre of the
// minimum region that `occlude check` reports) lies within 15 px of a box around a lit lamp;
// counted over the frames whose class is right. A miss is marked "below the lamp" when the minimum lies under a
// lamp's box and within half a patch of it left or right (on the test-lot camera, ud-*, the lamp's reflection in the
// windscreen shows on the dashboard straight below it, and models take it for the lamp).
//
//   node training/real_frames.mjs [MODEL] [--json OUT] [--shared ../shared] [--max-width W [--choose-scale LABEL]]
//
// --max-width W measures the model at a higher input size: a copy whose input width is free, with
// input.maxWidth W (training/free_width.mjs), so that a frame wider than the model keeps its width up to W.
// --choose-scale LABEL: such a frame is scored at both widths, and the one where LABEL is less probable is used.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeWidthCopy } from './free_width.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  if (i < 0) return d;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const jsonOut = opt('--json', null);
const shared = resolve(opt('--shared', '../shared'));
const maxWidth = opt('--max-width', null);
const chooseScale = opt('--choose-scale', null);
const given = resolve(args[0] ?? 'models/traffic-light');
if (chooseScale !== null && maxWidth === null) throw new Error('--choose-scale needs --max-width');
const model = maxWidth === null ? given : freeWidthCopy(given, mkdtempSync(join(tmpdir(), 'occ-wide-')), Number(maxWidth), chooseScale);
const RADIUS = 15;

function check(manifest) {
  let out;
  try {
    out = execFileSync('node', ['bin/occlude.js', 'check', manifest, '--model', model, '--json', '-q'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  } catch (e) {
    out = e.stdout; // exit 1 when a case fails
  }
  return out.trim().split('\n').map((l) => JSON.parse(l));
}

// distance from a point to a box (0 inside)
const dist = (x, y, b) => Math.hypot(Math.max(b.left - x, 0, x - (b.left + b.width - 1)), Math.max(b.top - y, 0, y - (b.top + b.height - 1)));
const realvalManifest = join(shared, 'realval', 'manifest.json');
// a point under a box, at most half a patch (the manifest's) to its left or right
const HALF_PATCH = JSON.parse(readFileSync(realvalManifest, 'utf8')).patch / 2;
const isBelow = (x, y, b) => y > b.top + b.height - 1 && x >= b.left - HALF_PATCH && x <= b.left + b.width - 1 + HALF_PATCH;

const realval = check(realvalManifest);
// dashcam: classes from reference.json (its `true_class` per frame), no boxes
const ref = JSON.parse(readFileSync(join(shared, 'dashcam', 'reference', 'reference.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'occ-real-'));
const frames = ref.frames ?? ref;
const dcases = Object.entries(frames).map(([k, v]) => ({ image: join(shared, 'dashcam', v.image ?? k), class: v.true_class ?? v.class ?? v.label }));
writeFileSync(join(dir, 'dashcam.json'), JSON.stringify({ patch: 64, stride: 32, cases: dcases }));
const dashcam = check(join(dir, 'dashcam.json'));

const rows = [];
for (const [set, res] of [['realval', realval], ['dashcam', dashcam]]) {
  for (const r of res) {
    const right = r.predicted === r.expected;
    let d = null;
    let below = false;
    if (r.minimum && r.evidence && r.evidence.length) {
      d = Math.min(...r.evidence.map((b) => dist(r.minimum.x, r.minimum.y, b)));
      below = right && d > RADIUS && r.evidence.some((b) => isBelow(r.minimum.x, r.minimum.y, b));
    }
    rows.push({ set, image: r.image.split('/').pop(), true: r.expected, predicted: r.predicted, probability: r.probability, right, minimum: r.minimum ? [r.minimum.x, r.minimum.y] : null, distance: d, below });
  }
}
const pad = (s, n) => String(s).padEnd(n);
console.log('| set | frame | true | predicted | probability | minimum (x,y) | distance to a lit lamp |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const dd = r.distance === null ? '' : `${r.distance.toFixed(0)} px${r.right ? (r.distance <= RADIUS ? ' (hit)' : r.below ? ' (miss, below the lamp)' : ' (miss)') : ''}`;
  console.log(`| ${r.set} | ${pad(r.image, 12)} | ${r.true} | ${r.right ? r.predicted : `**${r.predicted}**`} | ${r.probability.toFixed(3)} | ${r.minimum ? r.minimum.join(',') : ''} | ${dd} |`);
}
const rv = rows.filter((r) => r.set === 'realval');
const dc = rows.filter((r) => r.set === 'dashcam');
const pg = rv.filter((r) => r.right && r.distance !== null);
const hits = pg.filter((r) => r.distance <= RADIUS).length;
const summary = {
  model: given,
  ...(maxWidth === null ? {} : { maxWidth: Number(maxWidth) }),
  ...(chooseScale === null ? {} : { chooseScale }),
  realval: `${rv.filter((r) => r.right).length}/${rv.length}`,
  dashcam: `${dc.filter((r) => r.right).length}/${dc.length}`,
  both: `${rows.filter((r) => r.right).length}/${rows.length}`,
  pointing: `${hits}/${pg.length} within ${RADIUS} px (right class, frames with boxes)`,
  missesBelowTheLamp: pg.filter((r) => r.below).length,
};
console.log(JSON.stringify(summary));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ summary, rows }, null, 1) + '\n');
