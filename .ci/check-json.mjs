#!/usr/bin/env node
// CI gate on `occlude check --json` (one JSON object per case): every case of the manifest ran, and every
// case is as it should be: passed, or failed as its manifest expects ("expect": "fail", a known miss).
// A case that fails, an image that could not be processed, and a known miss that now passes (take its
// mark off) all fail the gate. Usage: node .ci/check-json.mjs MANIFEST RESULTS.jsonl
import { readFileSync } from 'node:fs';

const [manifestFile, resultsFile] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
const lines = readFileSync(resultsFile, 'utf8').split('\n').filter((l) => l.trim());
const cases = lines.map((l) => JSON.parse(l));
const wrong = cases.filter((c) => c.status !== 'pass' && c.status !== 'xfail');
const misses = cases.filter((c) => c.status === 'xfail');
for (const c of misses) console.log(`${manifestFile}: ${c.name}: a known miss, failed as expected (${c.expectReason})`);
for (const c of wrong) console.log(`${manifestFile}: ${c.name}: ${c.status}: ${c.status === 'xpass' ? `passes now; take "expect": "fail" off it (${c.expectReason})` : c.reasons.join('; ')}`);
const ran = cases.filter((c) => c.ran).length;
if (ran !== manifest.cases.length || wrong.length) {
  console.log(`${manifestFile}: FAILED: ${ran} of ${manifest.cases.length} case(s) ran; ${wrong.length} not as expected`);
  process.exit(1);
}
console.log(`${manifestFile}: ${ran} case(s) ran; ${ran - misses.length} passed, ${misses.length} known miss(es) failed as expected`);
