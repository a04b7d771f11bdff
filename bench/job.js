#!/usr/bin/env node
// One benchmark job in a fresh process, so that its peak RSS is its own.
// usage: node bench/job.js '{"model":..., "image":..., "patch":.., "stride":.., "workers":.., "raw":false}'
import { Session } from '../dist/index.js';
import { WorkerPool } from '../dist/infer/pool.js';
import { InProcessScorer } from '../dist/infer/scorer.js';
import { NO_PATCH } from '../dist/infer/variants.js';
import { autoBatchSize } from '../dist/infer/batch.js';

const job = JSON.parse(process.argv[2]);
const session = await Session.open({ model: job.model, workers: job.workers, backend: job.backend, batchSize: job.batchSize });
const out = { backend: session.backend, workers: session.workers };
try {
  if (job.raw) {
    // raw model throughput: plain batched predict of the unoccluded frame, on the same workers and batch size
    const image = await session.readImage(job.image);
    const spec = session.inputSpec();
    const scorer = session.workers > 1
      ? await WorkerPool.start(session.workers, session.backend, session.model.file)
      : new InProcessScorer(session.model, session.backend);
    const batch = job.batchSize ?? autoBatchSize(spec, session.workers, 1024 ** 3);
    await scorer.setFrame({ width: image.width, height: image.height, data: image.data, fill: { kind: 'constant', rgb: [0.5, 0.5, 0.5] }, occluders: [], spec });
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
  } else {
    // start the worker threads and load their models first: the peer also starts its timer after loading
    const t0 = performance.now();
    await session.start();
    out.startupSeconds = (performance.now() - t0) / 1000;
    const r = await session.occlude(job.image, { patch: job.patch, stride: job.stride });
    Object.assign(out, { variants: r.variants, evaluated: r.evaluated, seconds: r.seconds, minProbability: r.minProbability });
  }
} finally {
  await session.close();
}
out.peakRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(out) + '\n');
