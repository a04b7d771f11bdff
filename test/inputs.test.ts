import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expandInputs, globFiles } from '../dist/runs/inputs.js';
import { tmpdir } from './helpers.js';

/** Glob patterns, matched on a real tree (tinyglobby): each case is a pattern, a file, and whether it matches. */
const cases: [string, string, boolean][] = [
  ['frames/*.jpg', 'frames/a.jpg', true],
  ['frames/*.jpg', 'frames/day/a.jpg', false],
  ['frames/**/*.jpg', 'frames/day/dusk/a.jpg', true],
  ['frames/**/*.jpg', 'frames/a.jpg', true],
  ['*.{jpg,png}', 'x.png', true],
  ['*.{jpg,png}', 'x.gif', false],
  ['f?.jpg', 'f1.jpg', true],
  ['f?.jpg', 'f12.jpg', false],
  ['[ab].jpg', 'a.jpg', true],
  ['[!ab].jpg', 'a.jpg', false],
  ['a.b/*.jpg', 'axb/c.jpg', false],
];
let root: string;

beforeAll(() => {
  root = tmpdir('occlude-glob-');
  for (const [, file] of cases) {
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), '');
  }
  mkdirSync(path.join(root, 'a.b'));
});

describe('glob patterns', () => {
  for (const [glob, file, expected] of cases) {
    it(`${glob} ${expected ? 'matches' : 'does not match'} ${file}`, async () => {
      const { base, files } = await globFiles(path.join(root, glob));
      const matched = files.map((f) => path.relative(root, path.join(base, f)));
      expect(matched.includes(file)).toBe(expected);
    });
  }

  it('expandInputs: the images a pattern matches, in name order, named from its fixed folder; other matches are skipped', async () => {
    const r = await expandInputs([path.join(root, '**', '*')], false);
    const names = ['a.jpg', 'axb/c.jpg', 'f1.jpg', 'f12.jpg', 'frames/a.jpg', 'frames/day/a.jpg', 'frames/day/dusk/a.jpg', 'x.png'];
    expect(r.files.map((f: { relative: string }) => f.relative)).toEqual(names.map((n) => path.join(...n.split('/'))));
    expect(r.files.map((f: { file: string }) => f.file)).toEqual(names.map((n) => path.join(root, ...n.split('/'))));
    expect(r.skipped).toBe(1); // x.gif
    await expect(expandInputs([path.join(root, 'nothing', '*.jpg')], false)).rejects.toThrow(/nothing\/\*\.jpg: no image matches this pattern/);
  });
});
