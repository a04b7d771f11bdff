import { describe, expect, it } from 'vitest';
import { globToRegExp } from '../dist/runs/inputs.js';

describe('glob patterns', () => {
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
  for (const [glob, file, expected] of cases) {
    it(`${glob} ${expected ? 'matches' : 'does not match'} ${file}`, () => {
      expect(globToRegExp(glob).test(file)).toBe(expected);
    });
  }
});
