import path from 'node:path';
import type { CaseOutcome } from './check.js';
import { outcomeLine } from './check.js';

/** The characters XML 1.0 cannot hold (tab, newline and carriage return are the only controls it can). */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NOT_XML = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text and attribute values for XML 1.0: escaped, with characters XML cannot hold removed. */
export function xmlEscape(s: string): string {
  return s
    .replace(NOT_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export interface JunitSuite {
  /** the manifest */
  name: string;
  outcomes: CaseOutcome[];
  seconds: number;
}

/**
 * JUnit XML of a check run: one <testsuite> per manifest, one <testcase> per case.
 * A failed check is a <failure>; an image that could not be processed, or a case that did not run, is an <error>.
 * A known miss that fails as expected is <skipped type="xfail"> (as pytest writes it); one that passes is a <failure type="xpass">.
 */
export function junitXml(suites: JunitSuite[], timestamp = new Date()): string {
  const count = (os: CaseOutcome[], s: CaseOutcome['status'][]) => os.filter((o) => s.includes(o.status)).length;
  const attrs = (os: CaseOutcome[], seconds: number) =>
    `tests="${os.length}" failures="${count(os, ['fail', 'xpass'])}" errors="${count(os, ['error', 'not-run'])}" skipped="${count(os, ['xfail'])}" time="${seconds.toFixed(3)}"`;
  const all = suites.flatMap((s) => s.outcomes);
  const total = suites.reduce((t, s) => t + s.seconds, 0);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="occlude check" ${attrs(all, total)}>`];
  for (const s of suites) {
    const cls = xmlEscape(`occlude.check.${path.basename(s.name).replace(/\.json$/i, '')}`);
    lines.push(`  <testsuite name="${xmlEscape(s.name)}" ${attrs(s.outcomes, s.seconds)} timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, '')}">`);
    for (const o of s.outcomes) {
      lines.push(`    <testcase classname="${cls}" name="${xmlEscape(o.name)}" file="${xmlEscape(o.image)}" time="${o.seconds.toFixed(3)}">`);
      if (o.status === 'xfail') {
        lines.push(`      <skipped message="${xmlEscape(`expected to fail (${o.expectReason}): ${o.reasons.join('; ')}`)}" type="xfail"/>`);
      } else if (o.status === 'xpass') {
        const msg = xmlEscape(`passed, but expected to fail (${o.expectReason}): take "expect": "fail" off the case`);
        lines.push(`      <failure message="${msg}" type="xpass">${msg}</failure>`);
      } else if (!o.pass) {
        const msg = xmlEscape(o.reasons.join('; '));
        lines.push(o.error ? `      <error message="${msg}" type="${o.ran ? 'error' : 'not-run'}">${msg}</error>` : `      <failure message="${msg}" type="check">${msg}</failure>`);
      }
      lines.push(`      <system-out>${xmlEscape(outcomeLine(o))}</system-out>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
