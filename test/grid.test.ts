import { describe, expect, it } from 'vitest';
import { planAxis, planGrid, patchRect } from '../dist/plan/grid.js';
import { Accumulator } from '../dist/heatmap/accumulate.js';

describe('patch grid', () => {
  it('starts at -patch+1 and covers every pixel equally when stride divides patch', () => {
    const a = planAxis(256, 32, 16);
    expect(a.origins[0]).toBe(-31);
    expect(a.origins.length).toBe(18);
    expect(a.origins[a.origins.length - 1]).toBeLessThan(256);
    expect(a.origins[a.origins.length - 1] + 16).toBeGreaterThanOrEqual(256);
    expect(new Set(a.coverage)).toEqual(new Set([2]));
  });

  it('clips patches to the image', () => {
    const a = planAxis(100, 32, 16);
    expect(a.start[0]).toBe(0);
    expect(a.end[0]).toBe(1); // origin -31 covers pixel 0 only
    const last = a.origins.length - 1;
    expect(a.end[last]).toBe(100);
    for (let k = 0; k < a.origins.length; k++) {
      expect(a.start[k]).toBeGreaterThanOrEqual(0);
      expect(a.end[k]).toBeLessThanOrEqual(100);
      expect(a.end[k]).toBeGreaterThan(a.start[k]);
    }
  });

  it('handles strides that do not divide the patch (uneven but complete coverage)', () => {
    const a = planAxis(50, 10, 3);
    for (let p = 0; p < 50; p++) expect(a.coverage[p]).toBeGreaterThanOrEqual(3);
    // brute-force coverage
    for (let p = 0; p < 50; p++) {
      let n = 0;
      for (const o of a.origins) if (p >= o && p < o + 10) n++;
      expect(a.coverage[p]).toBe(n);
    }
    expect(new Set(a.coverage).size).toBeGreaterThan(1);
  });

  it('matches the reference variant count (455x256, 32/16 -> 558)', () => {
    expect(planGrid(455, 256, 32, 16).count).toBe(558);
  });

  it('stride larger than the patch leaves no pixel uncovered only where the grid says so', () => {
    const a = planAxis(40, 4, 8);
    const zero = [...a.coverage].filter((c) => c === 0).length;
    expect(zero).toBeGreaterThan(0);
  });

  it('orders variants row-major (top outer, left inner) on non-square images', () => {
    const g = planGrid(40, 20, 8, 8); // wide image
    const r1 = patchRect(g, 1);
    expect(r1.top).toBe(0);
    expect(r1.left).toBe(1);
    const nc = g.cols.origins.length;
    const below = patchRect(g, nc);
    expect(below.left).toBe(0);
    expect(below.top).toBe(1);
  });
});

describe('accumulation', () => {
  it('is the mean over covering patches (brute force) and is never transposed', () => {
    const w = 37;
    const h = 23;
    const g = planGrid(w, h, 8, 5);
    const acc = new Accumulator(g);
    const score = (i: number) => {
      const r = patchRect(g, i);
      return r.left * 0.01 + r.top * 0.001; // depends on x and y differently
    };
    for (let i = 0; i < g.count; i++) acc.add(i, [score(i)]);
    const mean = acc.mean();
    expect(mean.length).toBe(w * h);
    for (const [x, y] of [
      [0, 0],
      [36, 0],
      [0, 22],
      [36, 22],
      [18, 11],
    ]) {
      let s = 0;
      let n = 0;
      for (let i = 0; i < g.count; i++) {
        const r = patchRect(g, i);
        if (x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height) {
          s += score(i);
          n++;
        }
      }
      expect(mean[y * w + x]).toBeCloseTo(s / n, 5);
    }
    // the map grows along x faster than along y: a transposed map would not
    expect(mean[0 * w + 36]).toBeGreaterThan(mean[22 * w + 0]);
  });

  it('keeps the first minimum in row-major order, whatever the arrival order', () => {
    const g = planGrid(20, 20, 4, 4);
    const acc = new Accumulator(g);
    const order = [...Array(g.count).keys()].reverse();
    for (const i of order) acc.add(i, [i === 3 || i === 7 ? 0.1 : 0.5]);
    expect(acc.minimum().index).toBe(3);
    expect(acc.minimum().value).toBeCloseTo(0.1);
  });
});
