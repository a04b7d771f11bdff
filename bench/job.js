#!/usr/bin/env node
// One benchmark job in a fresh process, so that its peak RSS is its own.
// usage: node bench/job.js '{"model":..., "image":..., "patch":.., "stride":.., "workers":.., "engine":"full|incremental", "raw":false, "profile":false}'
import { Session } from '../dist/index.js';
import { WorkerPool } from '../dist/infer/pool.js';
import { InProcessScorer } from '../dist/infer/scorer.js';
import { NO_PATCH } from '../dist/infer/variants.js';
import { frameOf, incrementalScorer, sweepRects } from './sweep.js';

const job = JSON.parse(process.argv[2]);
const session = await Session.open({ model: job.model, workers: job.workers, backend: job.backend, batchSize: job.batchSize, engine: job.raw ? 'full' : job.engine });
const out = { backend: session.backend, workers: session.workers, engine: session.engine };
try {
  if (job.raw) {
    // raw model throughput: plain batched predict of the unoccluded frame, on the same workers and batch size
    const image = await session.decode(job.image);
    const spec = session.inputSpec();
    const scorer = session.workers > 1
      ? await WorkerPool.start(session.workers, session.backend, await session.model.workerSource(), 'full')
      : new InProcessScorer(session.model, session.backend);
    const batch = session.batchSize(spec, image); // what an occlusion run of the full engine uses
    await scorer.setFrame(frameOf(image, spec));
    const rects = Array.from({ length: batch }, () => NO_PATCH);
    await Promise.all(Array.from({ length: scorer.workers }, () => scorer.score(rects))); // warm-up
    const t0 = performance.now();
    let n = 0;
    const lane = async () => {
      while (performance.now() - t0 < job.seconds * 1000) {
        await scorer.score(rects);
        n += batch;
      }
    };
    await Promise.all(Array.from({ length: scorer.workers * 2 }, lane));
    out.imagesPerSecond = n / ((performance.now() - t0) / 1000);
    out.batchSize = batch;
    await scorer.close();
  } else if (job.profile) {
    // where the incremental engine's time goes, on one thread: per layer, and building the input windows
    const image = await session.decode(job.image);
    const spec = session.inputSpec();
    const scorer = incrementalScorer(session);
    const t0 = performance.now();
    await scorer.setFrame(frameOf(image, spec));
    const setFrameMs = performance.now() - t0;
    const rects = sweepRects(image, spec, job.patch, job.stride);
    const batch = session.batchSize(spec, image);
    await scorer.score(rects.slice(0, batch)); // warm-up
    scorer.engine.profile = new Map();
    let total = 0;
    for (let k = 0; k < rects.length; k += batch) {
      const t = performance.now();
      await scorer.score(rects.slice(k, k + batch));
      total += performance.now() - t;
    }
    const layers = [...scorer.engine.profile].map(([name, ms]) => ({ name, ms }));
    const inLayers = layers.reduce((a, l) => a + l.ms, 0);
    Object.assign(out, { variants: rects.length, batch, setFrameMs, totalMs: total, layers, otherMs: total - inLayers, cacheMB: scorer.engine.cacheBytes / 2 ** 20 });
    await scorer.close();
  } else {
    // start the worker threads and load their models first: the peer also starts its timer after loading
    const t0 = performance.now();
    await session.start();
    out.startupSeconds = (performance.now() - t0) / 1000;
    const r = await session.occlude(job.image, { patch: job.patch, stride: job.stride });
    Object.assign(out, { variants: r.variants, evaluated: r.evaluated, seconds: r.seconds, minProbability: r.minProbability, engine: r.engine });
  }
} finally {
  await session.close();
}
out.peakRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(out) + '\n');
