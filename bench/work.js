#!/usr/bin/env node
// The incremental engine's work on one frame, in multiply-accumulates (MAC), against full passes: the
// windows it runs each local layer on, traced over every variant of the sweep, times that layer's MACs per
// output position (Conv2D: kernel area x input channels x filters; DepthwiseConv2D: kernel area x channels;
// other layers: one per value). With `caps`, also what capping each window at that share of its map
// (projective-field thresholding) would leave, estimated from the same trace. Run after `npm run build`:
//
//   node bench/work.js MODEL IMAGE PATCH STRIDE [caps, e.g. 0.5,0.3]
import { Session } from '../dist/index.js';
import { frameOf, incrementalScorer, sweepRects } from './sweep.js';

const [model, file, patch, stride, caps = ''] = process.argv.slice(2);
if (!model || !file || !Number(patch) || !Number(stride)) {
  console.error('usage: node bench/work.js MODEL IMAGE PATCH STRIDE [caps]');
  process.exit(2);
}
const session = await Session.open({ model, workers: 1, engine: 'incremental' });
try {
  const image = await session.decode(file);
  const spec = session.inputSpec();
  const scorer = incrementalScorer(session);
  await scorer.setFrame(frameOf(image, spec));
  const rects = sweepRects(image, spec, Number(patch), Number(stride));
  const layers = new Map(session.model.layers.layers.map((l) => [l.name, l]));
  const perPosition = (name, channels) => {
    const l = layers.get(name);
    const cls = l.getClassName();
    const [kh, kw] = l.getConfig().kernelSize ?? [1, 1];
    if (cls === 'Conv2D') return kh * kw * (Array.isArray(l.input) ? l.input[0] : l.input).shape[3] * channels;
    if (cls === 'DepthwiseConv2D') return kh * kw * channels;
    return channels;
  };
  const trace = [];
  scorer.engine.trace = (name, w, map) => trace.push({ mac: perPosition(name, w.channels), n: w.count, h: w.height, w: w.width, H: map.height, W: map.width });
  const batch = 4;
  for (let k = 0; k < rects.length; k += batch) await scorer.score(rects.slice(k, k + batch));
  await scorer.close();
  const work = (cap) => trace.reduce((a, t) => a + t.n * t.mac * Math.min(t.h, Math.max(1, Math.ceil(cap * t.H))) * Math.min(t.w, Math.max(1, Math.ceil(cap * t.W))), 0);
  const full = trace.reduce((a, t) => a + t.n * t.mac * t.H * t.W, 0);
  const now = work(1);
  const out = { model, image: file, variants: rects.length, gates: session.planOptions.frameGates ? 'frame' : 'exact', gmac: +(now / 1e9).toFixed(1), fullGmac: +(full / 1e9).toFixed(1), ofFull: +(now / full).toFixed(3) };
  if (caps) out.caps = Object.fromEntries(caps.split(',').map((c) => [c, +(work(Number(c)) / now).toFixed(3)]));
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  await session.close();
}
