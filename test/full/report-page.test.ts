import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, DASHCAM, reference, shared, tmpdir, runCli } from '../helpers.js';

/**
 * The report page in a real headless Chromium (Debian's /usr/bin/chromium; .ci/run installs it).
 * A missing browser is a failure, never a skip.
 */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const FAST = ['--patch', '128', '--stride', '128', '--workers', '1'];
const ref = reference();
const FRAMES = Object.keys(ref.frames).sort();
let browser: Browser;
let dir: string;
let report: string;
let reviewPage: string;
let SEED: string;

const cli = runCli;

/** Open a page from disk; record every request that is not a local file. */
async function open(file: string): Promise<{ page: Page; remote: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const remote: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) remote.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  return { page, remote, errors };
}

const visibleImages = (page: Page) => page.locator('.card').evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.image));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (the report page test needs it)`);
  SEED = shared('seed-model', 'nexar-squeezenet-a');
  dir = tmpdir('occlude-page-');
  const frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (const f of FRAMES) symlinkSync(path.join(DASHCAM, f), path.join(frames, f));
  writeFileSync(path.join(frames, 'corrupt.jpg'), readFileSync(path.join(DASHCAM, FRAMES[0])).subarray(0, 300));
  writeFileSync(path.join(frames, 'empty.jpg'), '');
  report = path.join(dir, 'results', 'index.html');
  const r = await cli([frames, '--model', SEED, ...FAST, '--out', path.join(dir, 'results'), '--report', report, '--quiet']);
  expect(r.code).toBe(1); // the two bad files
  const labels = FRAMES.map((f) => `${f},${f.startsWith('8f91') ? 'none' : ref.frames[f].class}`);
  writeFileSync(path.join(dir, 'labels.csv'), ['image,class', ...labels].join('\n'));
  const rv = await cli(['review', frames, '--labels', path.join(dir, 'labels.csv'), '--out', path.join(dir, 'review'), '--model', SEED, ...FAST]);
  expect(rv.code).toBe(0); // the two bad files are not in labels.csv: left out
  reviewPage = path.join(dir, 'review', 'index.html');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
});

describe('report page in headless Chromium (file://, no server, no network)', () => {
  it('lists every image, with thumbnails that load', async () => {
    const { page, remote, errors } = await open(report);
    expect(await page.locator('.card').count()).toBe(8);
    const names = (await visibleImages(page)).map((s) => path.basename(s!)).sort();
    expect(names).toEqual([...FRAMES, 'corrupt.jpg', 'empty.jpg'].sort());
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.card img')].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 10_000 });
    expect(await page.locator('.card img').count()).toBe(6);
    expect(await page.locator('.card .err').count()).toBe(2);
    expect(await page.locator('#count').textContent()).toBe('8 of 8 shown');
    // predicted class, probability, target and minimum on each tile
    const a5af = page.locator('.card[data-image$="a5af6bd86cf1ee6a2ce4a539ace787f8.jpg"] figcaption');
    expect(await a5af.textContent()).toMatch(/predicted red 92\.\d\d%.*target red 92\.\d\d% → min \d+\.\d\d%/);
    // maps without contrast are marked (issue #17): at patch 128 the green frame's map spans 1e-7
    const flat = await page.locator('.card.flat').evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.image!.split('/').pop()));
    expect(flat).toContain('0bc85042878d4d63454403f68fee11b9.jpg');
    expect(flat).not.toContain('a5af6bd86cf1ee6a2ce4a539ace787f8.jpg');
    expect(await page.locator('.card[data-image$="0bc85042878d4d63454403f68fee11b9.jpg"] .flat-note').textContent()).toBe('no contrast: no region changes P(green) by more than 0.01%');
    expect(remote).toEqual([]);
    expect(errors).toEqual([]);
    if (process.env.OCCLUDE_SCREENSHOT) await page.screenshot({ path: process.env.OCCLUDE_SCREENSHOT, fullPage: true });
    await page.close();
  });

  it('filters by predicted class and sorts by minimum probability', async () => {
    const { page } = await open(report);
    await page.selectOption('#filter-class', 'green');
    expect((await visibleImages(page)).map((s) => path.basename(s!))).toEqual(['0bc85042878d4d63454403f68fee11b9.jpg']);
    await page.selectOption('#filter-class', 'red');
    expect(await page.locator('.card').count()).toBe(5);
    expect(await page.locator('#count').textContent()).toBe('5 of 8 shown');
    const mins = await page.locator('.card').evaluateAll((cards) => cards.map((c) => Number((c as HTMLElement).dataset.min)));
    expect(mins).toEqual([...mins].sort((a, b) => a - b)); // lowest first by default
    await page.selectOption('#sort', 'min-desc');
    const desc = await page.locator('.card').evaluateAll((cards) => cards.map((c) => Number((c as HTMLElement).dataset.min)));
    expect(desc).toEqual([...mins].reverse());
    await page.selectOption('#filter-class', '__error');
    expect((await visibleImages(page)).map((s) => path.basename(s!)).sort()).toEqual(['corrupt.jpg', 'empty.jpg']);
    await page.selectOption('#filter-class', '');
    expect(await page.locator('.card').count()).toBe(8);
    await page.close();
  });

  it('a click opens the full-size overlay beside the original', async () => {
    const { page } = await open(report);
    expect(await page.locator('#viewer').isVisible()).toBe(false);
    await page.locator('.card[data-image$="a5af6bd86cf1ee6a2ce4a539ace787f8.jpg"]').click();
    expect(await page.locator('#viewer').isVisible()).toBe(true);
    await page.waitForFunction(() => ['viewer-overlay', 'viewer-original'].every((id) => (document.getElementById(id) as HTMLImageElement).naturalWidth > 0), null, { timeout: 10_000 });
    const sizes = await page.evaluate(() => ['viewer-overlay', 'viewer-original'].map((id) => {
      const i = document.getElementById(id) as HTMLImageElement;
      const r = i.getBoundingClientRect();
      return { w: i.naturalWidth, h: i.naturalHeight, x: r.x, y: r.y, shown: r.width };
    }));
    expect(sizes.map((s) => [s.w, s.h])).toEqual([[455, 256], [455, 256]]);
    expect(sizes.map((s) => s.shown)).toEqual([455, 455]); // full size
    expect(sizes[1].x).toBeGreaterThan(sizes[0].x + 455 - 1); // side by side
    expect(sizes[1].y).toBe(sizes[0].y);
    await page.keyboard.press('Escape');
    expect(await page.locator('#viewer').isVisible()).toBe(false);
    await page.close();
  });

  it('the review view reuses the page: mistakes grouped by confusion pair', async () => {
    const { page, errors } = await open(reviewPage);
    expect((await visibleImages(page)).map((s) => path.basename(s!))).toEqual(['8f91ad839076f24d6a0e27029f07d2c0.jpg']);
    expect(await page.locator('.group').textContent()).toMatch(/none→red.*a red traffic light where there is none/);
    await page.selectOption('#filter-group', 'none→red');
    expect(await page.locator('.card').count()).toBe(1);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.card img')].every((i) => i.complete && i.naturalWidth === 455 * 2 + 8));
    expect(errors).toEqual([]);
    await page.close();
  });
});
