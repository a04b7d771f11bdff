import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ROOT, tmpdir } from './helpers.js';

/** The scripts of examples/ run as a user runs them (node, importing 'occlude' by name), from a folder of their own. */
function example(args: string[], cwd: string) {
  const p = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

describe('examples/', () => {
  it('overlay.mjs: one image to an overlay', async () => {
    const cwd = tmpdir('occlude-example-');
    const r = example([path.join(ROOT, 'examples', 'overlay.mjs')], cwd);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/red-single\.jpg: red 99\.4%, lowest 3\.3% with the 64x64 patch at \(209,65\) covered -> red-single\.occlusion\.png\n$/);
    expect(await sharp(path.join(cwd, 'red-single.occlusion.png')).metadata()).toMatchObject({ format: 'png', width: 455, height: 256 });
  });

  it('folder-summary.mjs: a folder to a summary', () => {
    const cwd = tmpdir('occlude-example-');
    // the fixture frames alone (an overlay written beside them, as the README's first example does, would be an image too)
    const frames = path.join(cwd, 'fixtures');
    mkdirSync(frames);
    for (const f of readdirSync(path.join(ROOT, 'fixtures')).filter((n) => n.endsWith('.jpg') && !n.includes('.occlusion.'))) copyFileSync(path.join(ROOT, 'fixtures', f), path.join(frames, f));
    const r = example([path.join(ROOT, 'examples', 'folder-summary.mjs'), frames], cwd);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(21);
    expect(lines[20]).toBe(`20 of 20 image(s) done, 0 failed; summary: ${path.join('fixtures-summary', 'summary.csv')}`);
    expect(lines.find((l) => l.includes('red-single.jpg'))).toMatch(/\tred\t99\.4%\tmin \d+\.\d% at \(\d+,\d+\)$/);
    expect(readFileSync(path.join(cwd, 'fixtures-summary', 'summary.csv'), 'utf8').trim().split('\n').length).toBe(21);
    expect(existsSync(path.join(cwd, 'fixtures-summary', 'red-single.occlusion.png'))).toBe(true);
  });

  it('check.test.mjs: a check from a Node test (node --test)', () => {
    const r = example(['--test', path.join(ROOT, 'examples', 'check.test.mjs')], tmpdir('occlude-example-'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# pass 1$/m);
    expect(r.out).toMatch(/^# fail 0$/m);
  });
});
