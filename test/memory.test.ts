import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { BIN, cpuBackend, saveLayersModel, tmpdir } from './helpers.js';

/**
 * Peak memory must not depend on the number of variants (the incremental engine, which auto picks for this model): a 2000x1500 frame at
 * patch 128 with stride 44 (1813 variants) and stride 14 (17784, ~10x), each in a
 * fresh process of the installed command, with a small model so that the check is quick.
 * The smaller run must be long enough to reach the process's steady heap size: with
 * 884 variants it sometimes ended below it (212-222 MB against a 240 MB plateau),
 * which read as 10.2% "growth" in a fresh-clone run.
 */
let dir: string;
let image: string;
let model: string;

beforeAll(async () => {
  await cpuBackend();
  dir = tmpdir('occlude-mem-');
  image = path.join(dir, 'big.jpg');
  const w = 2000;
  const h = 1500;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg().toFile(image);
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [64, 64, 3], filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  model = await saveLayersModel(m, path.join(dir, 'model'));
});

/**
 * Peak RSS of the installed command (bin/occlude.js, as users run it) on one
 * frame: a small wrapper imports the bin and prints the process's maxRSS on exit.
 */
function peak(stride: number): { variants: number; rssMB: number } {
  const wrapper = path.join(dir, 'peak.mjs');
  writeFileSync(
    wrapper,
    `import { writeSync } from 'node:fs';
     process.on('exit', () => writeSync(2, '\\nmaxRSS ' + process.resourceUsage().maxRSS + '\\n'));
     process.argv.splice(1, 1);
     await import(${JSON.stringify(pathToFileURL(BIN).href)});`,
  );
  const args = [image, '--model', model, '--patch', '128', '--stride', String(stride), '--workers', '2'];
  args.push('-o', path.join(dir, `overlay-${stride}.png`), '--json', '--quiet');
  const p = spawnSync(process.execPath, [wrapper, BIN, ...args], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`occlude exited with ${p.status}: ${p.stderr}`);
  const rss = /maxRSS (\d+)/.exec(p.stderr);
  if (!rss) throw new Error(`no maxRSS line in: ${p.stderr}`);
  const out = JSON.parse(p.stdout.trim().split('\n').pop()!) as { variants: number; engine: string };
  if (out.engine !== 'incremental') throw new Error(`expected the incremental engine (auto), got ${out.engine}`);
  return { variants: out.variants, rssMB: Number(rss[1]) / 1024 };
}

/**
 * Peak RSS varies by a few percent from run to run (when V8 and malloc happen
 * to collect), whatever the variant count, so each count runs three times and
 * the medians are compared.
 */
function medianPeak(stride: number): { variants: number; rssMB: number; runs: number[] } {
  const runs = [peak(stride), peak(stride), peak(stride)];
  const rss = runs.map((r) => r.rssMB).sort((x, y) => x - y);
  return { variants: runs[0]!.variants, rssMB: rss[1]!, runs: rss };
}

describe('bounded memory', () => {
  it('peak RSS stays bounded and grows < 10% for 10x the variants', () => {
    const a = medianPeak(44);
    const b = medianPeak(14);
    const mb = (r: { runs: number[] }) => r.runs.map((x) => x.toFixed(0)).join('/');
    console.log(`memory: ${a.variants} variants ${mb(a)} MB, ${b.variants} variants ${mb(b)} MB (medians compared)`);
    expect(a.variants).toBe(1813);
    expect(b.variants).toBe(17784);
    expect(a.rssMB).toBeLessThan(1536);
    expect(b.rssMB).toBeLessThan(1536);
    expect((b.rssMB - a.rssMB) / a.rssMB).toBeLessThan(0.1);
  });
});
