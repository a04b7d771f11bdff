import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, interrupt, tmpdir, runCli } from './helpers.js';

/**
 * Issue #17, defect 6: SIGTERM and SIGHUP (what CI runners, Kubernetes, `timeout` and a closed terminal
 * send) behave like Ctrl-C: stop after the current batch, write the summary and the page, say so, and
 * exit 128 + the signal's number. An interrupted check lists every case it did not run as an error.
 * The real command runs in a subprocess with the embedded model and the fixtures.
 */
const FIXTURES = ['red-single.jpg', 'green-single.jpg', 'red-triple.jpg', 'night-red.jpg', 'dusk-green.jpg', 'red-with-back-lights.jpg'];
const SLOW = ['--patch', '64', '--stride', '32', '--workers', '1', '--batch-size', '2'];
let dir: string;
let frames: string;
let manifest: string;

const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));

beforeAll(() => {
  dir = tmpdir('occlude-signals-');
  frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (const f of FIXTURES) copyFileSync(path.join(ROOT, 'fixtures', f), path.join(frames, f));
  manifest = path.join(dir, 'manifest.json');
  const everywhere = [{ left: 0, top: 0, width: 455, height: 256 }];
  writeFileSync(manifest, JSON.stringify({ patch: 64, stride: 32, cases: FIXTURES.map((f) => ({ image: path.join(frames, f), evidence: everywhere })) }));
});

describe('a folder run stopped by a signal keeps what it did', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`${signal}: exit ${code}, the message, the summary and the page`, async () => {
      const out = path.join(dir, `out-${signal}`);
      const page = path.join(out, 'index.html');
      const r = await interrupt([frames, ...SLOW, '--out', out, '--report', page, '--json'], signal);
      expect(r.signal).toBeNull(); // it exited by itself
      expect(r.code).toBe(code);
      const done = r.out.trim().split('\n').length;
      expect(done).toBeLessThan(FIXTURES.length);
      expect(r.err).toBe(`occlude: interrupted (${signal}): ${done} of ${FIXTURES.length} image(s) done, listed in ${path.join(out, 'summary.csv')}\n`);
      expect(readFileSync(path.join(out, 'summary.jsonl'), 'utf8').trim().split('\n').length).toBe(done);
      expect(readFileSync(page, 'utf8')).toContain('occlude report');
      expect(walk(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }
});

describe('an interrupted check does not look green', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${code}; the JUnit file has every case, those not run as <error> "not run: interrupted"`, async () => {
      const junit = path.join(dir, `check-${signal}.xml`);
      const total = FIXTURES.length;
      const r = await interrupt(['check', manifest, '--junit', junit, ...SLOW.slice(4)], signal);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(code);
      const ran = r.out.trim().split('\n').filter((l) => /^(PASS|FAIL) /.test(l)).length;
      expect(ran).toBeLessThan(total);
      expect(r.out).toMatch(new RegExp(`\\n\\d+ passed, \\d+ failed, ${total - ran} not run; backend `));
      expect(r.err).toBe(`occlude: interrupted${signal === 'SIGINT' ? '' : ` (${signal})`}: ${ran} of ${total} case(s) run\n`);
      expect(existsSync(junit)).toBe(true);
      const xml = readFileSync(junit, 'utf8');
      expect((xml.match(/<testcase /g) ?? []).length).toBe(total);
      expect((xml.match(/<error message="not run: interrupted" type="not-run">/g) ?? []).length).toBe(total - ran);
      expect(xml).toMatch(new RegExp(`<testsuites name="occlude check" tests="${total}" failures="\\d+" errors="${total - ran}"`));
    });
  }
});

describe('a check stopped by an error does not look green either', () => {
  it('a second manifest whose model cannot load: exit 1, its cases are <error> "not run: ..." in the JUnit file', async () => {
    const first = path.join(dir, 'first.json');
    writeFileSync(first, JSON.stringify({ cases: [{ image: path.join(frames, FIXTURES[0]), class: 'red' }] }));
    const second = path.join(dir, 'second.json');
    writeFileSync(second, JSON.stringify({ model: 'no-such-model', cases: [{ image: path.join(frames, FIXTURES[1]) }, { image: path.join(frames, FIXTURES[2]) }] }));
    const junit = path.join(dir, 'stopped.xml');
    const r = await runCli(['check', first, second, '--junit', junit, '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${path.join(dir, 'no-such-model')}: model not found\n`);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="occlude check" tests="3" failures="0" errors="2"/);
    expect((xml.match(/<error message="not run: [^"]*no-such-model: model not found" type="not-run">/g) ?? []).length).toBe(2);
  });
});
