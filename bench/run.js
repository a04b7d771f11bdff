#!/usr/bin/env node
// npm run bench: occlude's two engines (full forward passes, incremental) against the PyTorch peer,
// side by side, in one run on this machine; then where the incremental engine's time goes.
// Options: --quick (skip the 4000x3000 memory jobs), --full-memory (run them on the full engine too, ~8 min more),
//          --workers N, --seconds S (raw throughput window),
//          --only NAME (run the jobs whose name contains NAME), --rounds N (repeat each job N times; medians).
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
const only = flag('--only', '');
const rounds = Number(flag('--rounds', '1'));
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Wall-clock seconds of a whole process, and its result (the last JSON line it prints). */
function timed(cmd, argv) {
  const t0 = performance.now();
  const p = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed\n${p.stderr}`);
  return { wall, result: JSON.parse(p.stdout.trim().split('\n').pop()) };
}
const runJob = (job) => timed(process.execPath, [path.join(root, 'bench', 'job.js'), JSON.stringify({ model, workers, ...job })]).result;

const python = '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const peer = (image, patch, stride) => timed(python, [path.join(shared, 'baseline', 'torch_occlusion.py'), model, image, String(patch), String(stride)]);
/** The installed command as a user runs it: process start to exit, overlay written. */
const cli = (image, patch, stride) =>
  timed(process.execPath, [path.join(root, 'bin', 'occlude.js'), image, '--model', model, '--patch', String(patch), '--stride', String(stride), '--workers', String(workers), '-o', path.join(out, 'cli.png'), '--json', '--quiet']);

let jobs = [
  { name: 'seed job 455x256 p32/s16', image: frame, patch: 32, stride: 16, peer: true },
  { name: '455x256 p16/s8', image: frame, patch: 16, stride: 8, peer: true },
  { name: '1920x1080 p64/s32', image: hd, patch: 64, stride: 32, peer: true },
];
if (!quick) {
  // memory: peak RSS must not grow with the number of variants (the engine auto picks; the full engine's
  // 10x job alone takes about 7 minutes, so it runs only with --full-memory)
  const full = args.includes('--full-memory');
  jobs.push({ name: '4000x3000 p256/s128', image: big, patch: 256, stride: 128, peer: false, full });
  jobs.push({ name: '4000x3000 p256/s40 (10x variants)', image: big, patch: 256, stride: 40, peer: false, full });
}
if (only) jobs = jobs.filter((j) => j.name.includes(only));

const raw = runJob({ image: frame, raw: true, seconds: Number(flag('--seconds', '10')) });
const rows = [];
const fmt = (x, d = 2) => (x == null ? '-' : x.toFixed(d));
for (const j of jobs) {
  process.stderr.write(`bench: ${j.name}...\n`);
  const m = { full: [], inc: [], peer: [], peerWall: [], cli: [], rssFull: [], rssInc: [] };
  let r = null;
  // the engines, the peer and the command alternate within each round, so that drift hits them alike
  for (let k = 0; k < rounds; k++) {
    const f = j.full === false ? null : runJob({ image: j.image, patch: j.patch, stride: j.stride, engine: 'full' });
    const i = runJob({ image: j.image, patch: j.patch, stride: j.stride, engine: 'incremental' });
    if (f) m.full.push(f.seconds);
    m.inc.push(i.seconds);
    if (f) m.rssFull.push(f.peakRssMB);
    m.rssInc.push(i.peakRssMB);
    r = i;
    if (j.peer && hasTorch) {
      const p = peer(j.image, j.patch, j.stride);
      m.peer.push(p.result.seconds);
      m.peerWall.push(p.wall);
      m.cli.push(cli(j.image, j.patch, j.stride).wall);
    }
  }
  const [full, inc, pl, pw, cw] = [m.full, m.inc, m.peer, m.peerWall, m.cli].map((xs) => (xs.length ? median(xs) : null));
  rows.push({
    job: j.name,
    variants: r.variants,
    evaluated: r.evaluated,
    'full s': fmt(full),
    'incremental s': fmt(inc),
    'full/incr': full ? `${fmt(full / inc, 1)}x` : '-',
    'peer s (loop)': fmt(pl),
    'incr/peer': pl ? `${fmt(inc / pl)}x` : '-',
    'occlude CLI s (process)': fmt(cw),
    'peer s (process)': fmt(pw),
    'CLI/peer loop': pl ? `${fmt(cw / pl)}x` : '-',
    'CLI/peer process': pw ? `${fmt(cw / pw)}x` : '-',
    'peak RSS MB full/incr': `${m.rssFull.length ? fmt(median(m.rssFull), 0) : '-'}/${fmt(median(m.rssInc), 0)}`,
  });
}

function table(rs) {
  const cols = Object.keys(rs[0]);
  const width = cols.map((c) => Math.max(c.length, ...rs.map((r) => String(r[c]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(width[i])).join(' | ') + ' |';
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rs.map((r) => line(cols.map((c) => r[c])))].join('\n');
}

console.log(`occlude bench: backend ${raw.backend}, ${raw.workers} worker(s), ${os.cpus()[0].model}, ${os.availableParallelism()} cores, Node ${process.version}; ${rounds} round(s), medians`);
console.log(`model nexar-squeezenet-a (227x227); raw full-model throughput ${fmt(raw.imagesPerSecond, 1)} img/s (batch ${raw.batchSize}); peer: ${hasTorch ? 'PyTorch ' + spawnSync(python, ['-c', 'import torch;print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim() + ' (../shared/baseline/torch_occlusion.py, batch 64, 2 threads)' : 'not available (/usr/bin/python3 has no torch: apt-get install python3-torch python3-pil)'}`);
console.log('full s / incremental s: Session.occlude() after the workers started (as the peer times its loop after loading);');
console.log('occlude CLI s: `occlude IMAGE --model ... -o out.png` from process start to exit (engine auto); peer s (process): the same for the peer.');
if (rows.length) console.log(table(rows));
const mem = rows.filter((r) => r.job.startsWith('4000x3000'));
if (mem.length === 2) {
  const [a, b] = mem.map((r) => r['peak RSS MB full/incr'].split('/').map(Number));
  const growth = (k, name) => (Number.isFinite(a[k]) && Number.isFinite(b[k]) ? `${name} ${a[k]} -> ${b[k]} MB (${fmt(((b[k] - a[k]) / a[k]) * 100, 1)}%)` : `${name} not run (--full-memory)`);
  console.log(`memory, 4000x3000: ${mem[0].variants} -> ${mem[1].variants} variants: ${growth(1, 'incremental')}, ${growth(0, 'full')}`);
}

// where the incremental engine's time goes on the seed job (one thread)
const p = runJob({ image: frame, patch: 32, stride: 16, profile: true, workers: 1 });
const perVariant = (ms) => ms / p.variants;
console.log(`\nincremental engine, seed job on one thread: ${p.variants} variants in ${fmt(p.totalMs / 1000)} s (${fmt(perVariant(p.totalMs))} ms per variant, batch ${p.batch}); once per frame: ${fmt(p.setFrameMs, 0)} ms for the unoccluded pass and its ${fmt(p.cacheMB, 1)} MB of cached activations`);
const top = [...p.layers].sort((a, b) => b.ms - a.ms);
const shown = top.slice(0, 12);
const rest = top.slice(12).reduce((a, l) => a + l.ms, 0);
console.log(table([
  ...shown.map((l) => ({ layer: l.name, 'ms/variant': fmt(perVariant(l.ms)), share: `${fmt((l.ms / p.totalMs) * 100, 1)}%` })),
  { layer: `${top.length - shown.length} other layers`, 'ms/variant': fmt(perVariant(rest)), share: `${fmt((rest / p.totalMs) * 100, 1)}%` },
  { layer: 'input windows (resize of the patch region)', 'ms/variant': fmt(perVariant(p.otherMs)), share: `${fmt((p.otherMs / p.totalMs) * 100, 1)}%` },
]));
