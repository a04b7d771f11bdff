#!/usr/bin/env node
// npm run bench: occlude against raw model throughput and the PyTorch peer, side by side, on this machine.
// Options: --quick (skip the 4000x3000 memory jobs), --workers N, --seconds S (raw throughput window).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const quick = args.includes('--quick');
const workers = Number(flag('--workers', String(os.availableParallelism())));
const model = path.join(shared, 'seed-model', 'nexar-squeezenet-a');
const frame = path.join(shared, 'dashcam', 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg');
for (const p of [model, frame]) if (!existsSync(p)) throw new Error(`benchmark data missing: ${p}`);

const out = path.join(root, 'bench', 'out');
mkdirSync(out, { recursive: true });
const hd = path.join(out, 'frame-1920x1080.jpg');
const big = path.join(out, 'frame-4000x3000.jpg');
await sharp(frame).resize(1920, 1080, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(hd);
await sharp(frame).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(big);

function runJob(job) {
  const p = spawnSync(process.execPath, [path.join(root, 'bench', 'job.js'), JSON.stringify({ model, workers, ...job })], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`job failed: ${JSON.stringify(job)}\n${p.stderr}`);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

const python = '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
function runPeer(image, patch, stride) {
  if (!hasTorch) return null;
  const p = spawnSync(python, [path.join(shared, 'baseline', 'torch_occlusion.py'), model, image, String(patch), String(stride)], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`peer failed\n${p.stderr}`);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

const jobs = [
  { name: 'seed job 455x256 p32/s16', image: frame, patch: 32, stride: 16, peer: true },
  { name: '455x256 p16/s8', image: frame, patch: 16, stride: 8, peer: true },
  { name: '1920x1080 p64/s32', image: hd, patch: 64, stride: 32, peer: true },
];
if (!quick) {
  jobs.push({ name: '4000x3000 p256/s128', image: big, patch: 256, stride: 128, peer: false });
  jobs.push({ name: '4000x3000 p256/s40 (10x variants)', image: big, patch: 256, stride: 40, peer: false });
}

const raw = runJob({ image: frame, raw: true, seconds: Number(flag('--seconds', '15')) });
const rows = [];
for (const j of jobs) {
  process.stderr.write(`bench: ${j.name}...\n`);
  const r = runJob({ image: j.image, patch: j.patch, stride: j.stride });
  const peer = j.peer ? runPeer(j.image, j.patch, j.stride) : null;
  const rawSeconds = r.evaluated / raw.imagesPerSecond;
  rows.push({
    job: j.name,
    variants: r.variants,
    evaluated: r.evaluated,
    seconds: r.seconds.toFixed(2),
    'variants/s': (r.variants / r.seconds).toFixed(1),
    'peak RSS MB': r.peakRssMB.toFixed(0),
    'raw img/s': raw.imagesPerSecond.toFixed(1),
    'overhead vs raw': `${(((r.seconds - rawSeconds) / rawSeconds) * 100).toFixed(1)}%`,
    'peer s': peer ? peer.seconds.toFixed(2) : '-',
    'occlude/peer': peer ? (r.seconds / peer.seconds).toFixed(2) + 'x' : '-',
  });
}

const cols = Object.keys(rows[0]);
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(width[i])).join(' | ') + ' |';
console.log(`occlude bench: backend ${raw.backend}, ${raw.workers} worker(s), batch ${raw.batchSize}, ${os.cpus()[0].model}, ${os.availableParallelism()} cores, Node ${process.version}`);
console.log(`model nexar-squeezenet-a (227x227); peer: ${hasTorch ? 'PyTorch ' + spawnSync(python, ['-c', 'import torch;print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim() + ' (../shared/baseline/torch_occlusion.py, batch 64, 2 threads)' : 'not available (/usr/bin/python3 has no torch)'}`);
console.log(line(cols));
console.log(line(width.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(cols.map((c) => r[c])));
if (!quick) {
  const [a, b] = rows.slice(-2);
  console.log(`memory: 4000x3000 peak RSS ${a['peak RSS MB']} MB for ${a.variants} variants, ${b['peak RSS MB']} MB for ${b.variants} (${(((b['peak RSS MB'] - a['peak RSS MB']) / a['peak RSS MB']) * 100).toFixed(1)}% growth)`);
}
