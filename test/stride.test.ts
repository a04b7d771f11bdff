import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Session, OccludeError } from '../dist/index.js';
import { parseManifest } from '../dist/report/manifest.js';
import { EMBEDDED_MODEL } from '../dist/session.js';
import { ROOT, tmpdir, runCli } from './helpers.js';

/**
 * Issue #17, defect 7: a stride larger than the patch leaves pixels that no patch covers (NaN in the map,
 * a black overlay). It is a usage error on the command line, in a manifest and in a library call.
 */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
const WHY = /Expected integer between 1 and 8 \(the patch size\) for stride but received 64: pixels between patches would never be covered/;
let dir: string;

beforeAll(() => {
  dir = tmpdir('occlude-stride-');
});

describe('stride larger than the patch', () => {
  it('occlude: exit 2 before any work, one line, no overlay', async () => {
    const r = await runCli([FRAME, '--patch', '8', '--stride', '64', '--workers', '1', '-o', path.join(dir, 'x.png')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(WHY);
    expect(r.err.trim().split('\n').length).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('review: exit 2', async () => {
    writeFileSync(path.join(dir, 'labels.csv'), 'image,class\nred-single.jpg,red\n');
    const r = await runCli(['review', FRAME, '--labels', path.join(dir, 'labels.csv'), '--out', path.join(dir, 'review'), '--patch', '8', '--stride', '64']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(WHY);
  });

  it('a manifest: exit 2, at the top level and per case (a case patch under the manifest stride)', async () => {
    const top = path.join(dir, 'top.json');
    writeFileSync(top, JSON.stringify({ patch: 8, stride: 64, cases: [{ image: FRAME }] }));
    const r = await runCli(['check', top]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/top\.json: Expected integer between 1 and 8 \(the patch size\) for stride but received 64/);
    expect(() => parseManifest({ patch: 32, stride: 16, cases: [{ image: 'a.jpg', patch: 8 }] }, 'm.json', EMBEDDED_MODEL)).toThrow(
      /m\.json: case 1 \(a\.jpg\): Expected integer between 1 and 8 \(the patch size\) for stride but received 16: pixels between patches would never be covered/,
    );
    // a case patch with its own stride that fits is fine
    expect(parseManifest({ patch: 32, stride: 16, cases: [{ image: 'a.jpg', patch: 8, stride: 4 }] }, 'm.json', EMBEDDED_MODEL).cases.length).toBe(1);
  });

  it('a library call throws a usage OccludeError', async () => {
    const session = await Session.open({ workers: 1 });
    try {
      const err = await session.occlude(FRAME, { patch: 8, stride: 64 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OccludeError);
      expect((err as OccludeError).kind).toBe('usage');
      expect((err as Error).message).toMatch(WHY);
    } finally {
      await session.close();
    }
  });
});
