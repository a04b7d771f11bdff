#!/usr/bin/env node
// Draws docs/incremental-regions.png: how the region one patch changes grows through the seed
// model's layers (the incremental engine's windows), from the engine itself.
// usage: node bench/figure-regions.js [out.png]   (needs ../shared and a build)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Session } from '../dist/index.js';
import { frameOf, incrementalScorer } from './sweep.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const model = path.resolve(root, '..', 'shared', 'seed-model', 'nexar-squeezenet-a');
const frame = path.resolve(root, '..', 'shared', 'dashcam', 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg');
const out = process.argv[2] ?? path.join(root, 'docs', 'incremental-regions.png');
const patch = { left: 145, top: 113, width: 32, height: 32 }; // the patch over the red light (the map's minimum)
const SHOW = ['image', 'conv1', 'pool1', 'fire4_concat', 'pool4', 'fire8_concat', 'pool8', 'fire9_concat', 'conv10_nexar'];

const session = await Session.open({ model, workers: 1 });
const image = await session.decode(frame);
const spec = session.inputSpec();
const scorer = incrementalScorer(session);
await scorer.setFrame(frameOf(image, spec));
const layers = [];
scorer.engine.trace = (name, w, map) => {
  if (SHOW.includes(name)) layers.push({ name, H: map.height, W: map.width, r: [w.top0[0], w.top1[0], w.left0[0], w.left1[0]] });
};
await scorer.score([patch]);
await scorer.close();
await session.close();

const S = 118; // panel size
const gap = 28;
const cols = 5;
const rows = Math.ceil((layers.length + 1) / cols);
const width = cols * (S + gap) + gap;
const height = rows * (S + 58) + 40;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans" font-size="11">`;
svg += `<rect width="100%" height="100%" fill="white"/>`;
svg += `<text x="${gap}" y="22" font-size="13" font-weight="bold">One 32x32 patch through nexar-squeezenet-a: what it changes in each layer's map (orange)</text>`;
const panel = (k, title, sub, draw) => {
  const x = gap + (k % cols) * (S + gap);
  const y = 40 + Math.floor(k / cols) * (S + 58);
  svg += `<g transform="translate(${x},${y})">${draw}<rect width="${S}" height="${S}" fill="none" stroke="#333"/>`;
  svg += `<text y="${S + 15}" font-weight="bold">${esc(title)}</text><text y="${S + 29}">${esc(sub)}</text></g>`;
};
// the frame, with the patch
const fw = S;
const fh = (S * image.height) / image.width;
panel(0, 'frame 455x256', '32x32 at (145,113)', `<rect y="${(S - fh) / 2}" width="${fw}" height="${fh}" fill="#ddd"/><rect x="${(patch.left * fw) / image.width}" y="${(S - fh) / 2 + (patch.top * fh) / image.height}" width="${(patch.width * fw) / image.width}" height="${(patch.height * fh) / image.height}" fill="#f80"/>`);
layers.forEach((l, i) => {
  const [t0, t1, l0, l1] = l.r;
  const share = ((t1 - t0) * (l1 - l0)) / (l.H * l.W);
  const sx = S / l.W;
  const sy = S / l.H;
  panel(i + 1, `${l.name} ${l.H}x${l.W}`, `${t1 - t0}x${l1 - l0} changed (${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%)`, `<rect width="${S}" height="${S}" fill="#eef"/><rect x="${l0 * sx}" y="${t0 * sy}" width="${(l1 - l0) * sx}" height="${(t1 - t0) * sy}" fill="#f80"/>`);
});
svg += '</svg>';
await sharp(Buffer.from(svg)).png().toFile(out);
console.log(`wrote ${out}: ${layers.map((l) => `${l.name} ${l.r[1] - l.r[0]}x${l.r[3] - l.r[2]} of ${l.H}x${l.W}`).join(', ')}`);
