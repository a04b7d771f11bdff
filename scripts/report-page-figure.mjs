#!/usr/bin/env node
// Draws docs/report-page.png: the report page of the six dash-cam frames of ../shared (seed model,
// patch 32, stride 16) and a corrupt file, in Debian's Chromium (apt-get install -y chromium).
// usage: node scripts/report-page-figure.mjs [out.png]   (after npm run build)
import { mkdtempSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { runFolder } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(root, '..', 'shared');
const out = process.argv[2] ?? path.join(root, 'docs', 'report-page.png');
const dir = mkdtempSync(path.join(os.tmpdir(), 'occlude-page-'));
const frames = path.join(dir, 'frames');
const dashcam = path.join(shared, 'dashcam');
await import('node:fs/promises').then((fs) => fs.mkdir(frames));
for (const f of readdirSync(dashcam).filter((x) => x.endsWith('.jpg'))) symlinkSync(path.join(dashcam, f), path.join(frames, f));
writeFileSync(path.join(frames, 'broken.jpg'), 'not a jpeg');
const page = path.join(dir, 'results', 'index.html');
await runFolder({ inputs: [frames], out: path.join(dir, 'results'), report: page, model: path.join(shared, 'seed-model', 'nexar-squeezenet-a'), patch: 32, stride: 16 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const tab = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  await tab.goto(pathToFileURL(page).href);
  await tab.waitForLoadState('networkidle');
  await tab.screenshot({ path: out, fullPage: false });
} finally {
  await browser.close();
}
console.log(`wrote ${out} (page: ${page})`);
