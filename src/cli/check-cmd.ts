/** `occlude check MANIFESTS...`: a line (or JSON line) per case, then the count; the exit code says whether all passed. */
import { runCheck } from '../runs/check.js';
import { outcomeLine } from '../report/check.js';
import { listen, sessionOptions, type Io, type ModelFlags, type Reporter } from './common.js';
import { parseShard } from '../runs/shard.js';

export interface CheckFlags extends ModelFlags {
  junit?: string;
  shard?: string;
}

export async function runCheckCmd(manifests: string[], f: CheckFlags, io: Io, rep: Reporter): Promise<void> {
  // with --json, stdout carries the JSON lines only: the rest goes to stderr
  const say = (s: string) => (f.json ? io.stderr : io.stdout).write(s + '\n');
  const events = listen(io, f, rep);
  const r = await runCheck(
    { ...sessionOptions(f), manifests, junit: f.junit, shard: f.shard === undefined ? undefined : parseShard(f.shard, io.env ?? {}), signal: io.signal },
    {
      ...events,
      manifest: (m) => {
        if (manifests.length > 1 && !f.json) say(`${m.file}:`);
      },
      outcome: (o, m, backend) => {
        events.progressBar.clear();
        if (f.json) io.stdout.write(JSON.stringify({ manifest: m.file, backend, ...o }) + '\n');
        else say(outcomeLine(o));
      },
    },
  ).finally(() => events.progressBar.clear());
  const extra = [r.expectedFailures && `${r.expectedFailures} expected to fail`, r.unexpectedPasses && `${r.unexpectedPasses} passed unexpectedly`, r.notRun && `${r.notRun} not run`].filter(Boolean);
  say(`${r.passed} passed, ${r.failed} failed${extra.map((e) => `, ${e}`).join('')}${r.backend ? `; backend ${r.backend}` : ''}${f.junit ? ` (JUnit: ${f.junit})` : ''}`);
  if (!r.ok) rep.code = Math.max(rep.code, 1);
  const cases = r.suites.reduce((n, s) => n + s.outcomes.length, 0);
  rep.interrupted((prefix) => `${prefix}: ${cases - r.notRun} of ${cases} case(s) run`);
}
