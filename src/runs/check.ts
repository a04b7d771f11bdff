/**
 * Checks of heat-maps against manifests of expected classes and evidence boxes (`occlude check`, for
 * CI): one suite per manifest, one outcome per case; optionally a JUnit XML file. A run cut short (a
 * signal, a manifest whose model cannot load) still lists every case: those that did not run are errors.
 */
import type { SessionOptions } from '../session.js';
import { EMBEDDED_MODEL } from '../session.js';
import { forClass, type OcclusionResult } from '../result.js';
import { messageOf, shownPath, withName } from '../errors.js';
import { writeFileAtomic, checkWritable } from '../files.js';
import { evaluateCase, errorOutcome, notRunOutcome, isOk, type CaseOutcome } from '../report/check.js';
import { readManifest, type CheckManifest } from '../report/manifest.js';
import { junitXml, type JunitSuite } from '../report/junit.js';
import { asOccludeError, useSession, ProgressMeter, type RunEvents } from './events.js';
import { checkShard, selectShard, type Shard } from './shard.js';

export interface CheckOptions extends Omit<SessionOptions, 'model'> {
  /** manifest files */
  manifests: string[];
  /** overrides every manifest's model */
  model?: SessionOptions['model'];
  /** write JUnit XML here */
  junit?: string;
  /** run only this part of each manifest's cases (by case name; 1-based); the JUnit file lists that part */
  shard?: Shard;
  signal?: AbortSignal;
}

export interface CheckEvents extends RunEvents {
  /** a manifest's cases start */
  manifest?(m: CheckManifest): void;
  /** a case is decided */
  outcome?(o: CaseOutcome, m: CheckManifest, backend: string): void;
}

export interface CheckResult {
  /** one per manifest, with every case (those that did not run too) */
  suites: JunitSuite[];
  passed: number;
  /** cases that failed, or could not be processed, when they were expected to pass */
  failed: number;
  /** known misses ("expect": "fail") that failed, as expected */
  expectedFailures: number;
  /** known misses that passed: failures of the check (take the mark off) */
  unexpectedPasses: number;
  notRun: number;
  /** every case ran and is as it should be (passed, or failed as expected) */
  ok: boolean;
  /** the backend the cases ran on ('' when none ran) */
  backend: string;
  interrupted: boolean;
}

export async function runCheck(o: CheckOptions, events: CheckEvents = {}): Promise<CheckResult> {
  const manifests: CheckManifest[] = [];
  for (const file of o.manifests) manifests.push(await readManifest(file, EMBEDDED_MODEL)); // all valid before any work
  if (o.shard) {
    const shard = checkShard(o.shard);
    manifests.forEach((m, k) => (manifests[k] = { ...m, cases: selectShard(m.cases, (c) => c.name, shard) }));
  }
  if (o.junit) await checkWritable(o.junit);
  // every manifest has its suite from the start: a run cut short lists the cases it did not run
  const suites: JunitSuite[] = manifests.map((m) => ({ name: m.file, outcomes: [], seconds: 0 }));
  let backend = '';
  let failure: string | null = null;
  try {
    for (const [k, m] of manifests.entries()) {
      if (o.signal?.aborted) break;
      events.manifest?.(m);
      backend = await runManifest(m, suites[k], o, events);
    }
  } catch (err) {
    failure = messageOf(err).split('\n')[0];
    throw err;
  } finally {
    const why = o.signal?.aborted ? 'interrupted' : failure;
    if (why) suites.forEach((s, k) => s.outcomes.push(...manifests[k].cases.slice(s.outcomes.length).map((c) => notRunOutcome(c, why))));
    if (o.junit) await writeFileAtomic(o.junit, junitXml(suites)).catch((e: unknown) => events.error?.(asOccludeError(e)));
  }
  const all = suites.flatMap((s) => s.outcomes);
  const count = (...s: CaseOutcome['status'][]) => all.filter((x) => s.includes(x.status)).length;
  const r = { passed: count('pass'), failed: count('fail', 'error'), expectedFailures: count('xfail'), unexpectedPasses: count('xpass'), notRun: count('not-run') };
  return { suites, ...r, ok: all.every((x) => isOk(x.status)), backend, interrupted: o.signal?.aborted === true };
}

/** Run one manifest's cases into its suite (until interrupted); returns the backend. */
async function runManifest(m: CheckManifest, suite: JunitSuite, o: CheckOptions, events: CheckEvents): Promise<string> {
  const t0 = Date.now();
  const outcomes = suite.outcomes;
  const meter = new ProgressMeter(events);
  const { session, release } = await useSession({ ...o, model: o.model ?? m.model ?? undefined }, events);
  const cache = new Map<string, OcclusionResult>();
  let cacheFile = '';
  try {
    for (let n = 0; n < m.cases.length; n++) {
      const c = m.cases[n];
      if (o.signal?.aborted) break;
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
          const classes = m.cases.filter((x) => x.file === c.file && (x.patch ?? m.patch) === patch && (x.stride ?? m.stride) === stride && x.class).map((x) => x.class!);
          const r = cache.get(key) ?? (await session.occlude(c.file, { classes, patch, stride, fill: m.fill, signal: o.signal, onProgress: meter.image(c.name, n, m.cases.length) }));
          if (!cache.has(key)) meter.finished(r.variants);
          cache.set(key, r);
          const v = forClass(r, c.class ?? r.predicted.class);
          outcome = evaluateCase(c, m, r.predicted, { map: v.map, width: v.width, height: v.height, probability: v.probability, class: v.class, minPatch: v.minPatch, minProbability: v.minProbability }, (Date.now() - t) / 1000);
        } else {
          const p = await session.predict(c.file);
          outcome = evaluateCase(c, m, p, null, (Date.now() - t) / 1000);
        }
      } catch (err) {
        if (o.signal?.aborted) break;
        const msg = messageOf(err).split('\n')[0];
        outcome = errorOutcome(c, msg.includes(shownPath(c.file)) ? msg : withName(msg, c.image), (Date.now() - t) / 1000);
      }
      outcomes.push(outcome);
      events.outcome?.(outcome, m, session.backend);
    }
  } finally {
    await release();
    suite.seconds = (Date.now() - t0) / 1000;
  }
  return session.backend;
}
