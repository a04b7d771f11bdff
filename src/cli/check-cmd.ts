import { EMBEDDED_MODEL } from '../session.js';
import { forClass, type OcclusionResult } from '../result.js';
import { messageOf, shownPath, withName } from '../errors.js';
import { readManifest, evaluateCase, errorOutcome, notRunOutcome, outcomeLine, type CaseOutcome, type CheckManifest } from '../report/check.js';
import { junitXml, type JunitSuite } from '../report/junit.js';
import { writeFileAtomic } from '../image/encode.js';
import { Progress } from './progress.js';
import { openSession, checkWritable, interruption, type Io, type ModelFlags, type Reporter } from './common.js';

/** `occlude check`: manifests of expected classes and evidence boxes, for CI. */
export interface CheckFlags extends ModelFlags {
  junit?: string;
}

export async function runCheck(files: string[], f: CheckFlags, io: Io, rep: Reporter): Promise<void> {
  const manifests: CheckManifest[] = [];
  for (const file of files) manifests.push(await readManifest(file, EMBEDDED_MODEL)); // all valid before any work
  if (f.junit) await checkWritable(f.junit);
  // every manifest has its suite from the start: a run cut short lists the cases it did not run
  const suites: JunitSuite[] = manifests.map((m) => ({ name: m.file, outcomes: [], seconds: 0 }));
  let backend = '';
  let failure: string | null = null;
  const say = (s: string) => (f.json ? io.stderr : io.stdout).write(s + '\n');
  try {
    for (const [k, m] of manifests.entries()) {
      if (io.signal?.aborted) break;
      if (manifests.length > 1 && !f.json) say(`${m.file}:`);
      backend = await runManifest(m, suites[k], f, io, rep, say);
    }
  } catch (err) {
    failure = messageOf(err).split('\n')[0];
    throw err;
  } finally {
    const why = io.signal?.aborted ? 'interrupted' : failure;
    if (why) suites.forEach((s, k) => s.outcomes.push(...manifests[k].cases.slice(s.outcomes.length).map((c) => notRunOutcome(c, why))));
    if (f.junit) await writeFileAtomic(f.junit, junitXml(suites)).catch((e) => rep.error(e));
  }
  const all = suites.flatMap((s) => s.outcomes);
  const notRun = all.filter((o) => !o.ran).length;
  const failed = all.filter((o) => !o.pass).length - notRun;
  say(`${all.length - failed - notRun} passed, ${failed} failed${notRun ? `, ${notRun} not run` : ''}${backend ? `; backend ${backend}` : ''}${f.junit ? ` (JUnit: ${f.junit})` : ''}`);
  if (failed) rep.code = Math.max(rep.code, 1);
  const stop = interruption(io.signal);
  if (stop) {
    io.stderr.write(`${stop.prefix}: ${all.length - notRun} of ${all.length} case(s) run\n`);
    rep.code = Math.max(rep.code, stop.code);
  }
}

/** Run one manifest's cases into its suite (until interrupted); returns the backend. */
async function runManifest(m: CheckManifest, suite: JunitSuite, f: CheckFlags, io: Io, rep: Reporter, say: (s: string) => void): Promise<string> {
  const t0 = Date.now();
  const outcomes = suite.outcomes;
  const progress = Progress.for(io.stderr, f.quiet === true);
  const session = await openSession({ ...f, model: f.model ?? m.model ?? undefined }, rep);
  let variantsSoFar = 0;
  const cache = new Map<string, OcclusionResult>();
  let cacheFile = '';
  try {
    for (let n = 0; n < m.cases.length; n++) {
      const c = m.cases[n];
      if (io.signal?.aborted) break;
      const t = Date.now();
      let outcome: CaseOutcome;
      try {
        if (c.evidence?.length) {
          const patch = c.patch ?? m.patch;
          const stride = c.stride ?? m.stride;
          const key = JSON.stringify([c.file, patch, stride]);
          if (cacheFile !== c.file) cache.clear(); // keep only the current image's maps
          cacheFile = c.file;
          // one sweep per image and grid maps every class its cases name (every forward pass outputs every class)
          const classes = m.cases.filter((o) => o.file === c.file && (o.patch ?? m.patch) === patch && (o.stride ?? m.stride) === stride && o.class).map((o) => o.class!);
          const r = cache.get(key) ?? await session.occlude(c.file, {
            classes,
            patch,
            stride,
            fill: m.fill,
            signal: io.signal,
            onProgress: (d, total) => progress.update(c.name, n, m.cases.length, d, total, variantsSoFar + d),
          });
          if (!cache.has(key)) variantsSoFar += r.variants;
          cache.set(key, r);
          progress.clear();
          const v = forClass(r, c.class ?? r.predicted.class);
          outcome = evaluateCase(c, m, r.predicted, { map: v.map, width: v.width, height: v.height, probability: v.probability, class: v.class, minPatch: v.minPatch, minProbability: v.minProbability }, (Date.now() - t) / 1000);
        } else {
          const p = await session.predict(c.file);
          outcome = evaluateCase(c, m, p, null, (Date.now() - t) / 1000);
        }
      } catch (err) {
        progress.clear();
        if (io.signal?.aborted) break;
        const msg = messageOf(err).split('\n')[0];
        outcome = errorOutcome(c, msg.includes(shownPath(c.file)) ? msg : withName(msg, c.image), (Date.now() - t) / 1000);
      }
      outcomes.push(outcome);
      if (f.json) io.stdout.write(JSON.stringify({ manifest: m.file, backend: session.backend, ...outcome }) + '\n');
      else say(outcomeLine(outcome));
    }
  } finally {
    progress.clear();
    await session.close();
    suite.seconds = (Date.now() - t0) / 1000;
  }
  return session.backend;
}
