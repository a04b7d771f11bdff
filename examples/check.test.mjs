// A check from a Node test: the embedded model's heat-maps must point at the lights of the fixtures
// (fixtures/manifest.json: the class of each frame and the boxes of its lights; a case marked
// "expect": "fail" is a known miss that must fail).
//   node --test examples/check.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runCheck } from 'occlude';

test('the embedded model looks at the traffic lights of the fixtures', async () => {
  const manifest = fileURLToPath(new URL('../fixtures/manifest.json', import.meta.url));
  const r = await runCheck({ manifests: [manifest] });
  const wrong = r.suites.flatMap((s) => s.outcomes).filter((o) => o.status !== 'pass' && o.status !== 'xfail');
  assert.deepEqual(wrong.map((o) => `${o.name}: ${o.status}: ${o.reasons.join('; ')}`), []);
  assert.ok(r.ok);
  assert.ok(r.passed > 0);
});
