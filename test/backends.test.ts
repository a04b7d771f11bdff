import { describe, expect, it } from 'vitest';
import { selectBackend, loaders } from '../dist/model/backends.js';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { defaultWorkers } from '../dist/options.js';

const missing = async () => {
  throw new Error("Cannot find package '@tensorflow/tfjs-node'");
};

describe('backend selection', () => {
  it('auto falls back to wasm when tfjs-node does not load, and says why', async () => {
    const b = await selectBackend('auto', { ...loaders, node: missing });
    expect(b.name).toBe('wasm');
    expect(b.notes.join()).toMatch(/node unavailable: Cannot find package '@tensorflow\/tfjs-node'/);
  });

  it('auto prefers tfjs-node when it loads, and then scores in-process on its own threads', async () => {
    // stands in for the real package, which registers the 'tensorflow' backend on import
    const fakeNode = async () => {
      if (!tf.findBackend('tensorflow')) tf.registerBackend('tensorflow', () => new MathBackendCPU());
    };
    const b = await selectBackend('auto', { ...loaders, node: fakeNode });
    expect(b).toEqual({ name: 'node', notes: [] });
    expect(tf.getBackend()).toBe('tensorflow');
    expect(defaultWorkers('node')).toBe(1);
    expect(defaultWorkers('wasm')).toBeGreaterThanOrEqual(1);
    tf.removeBackend('tensorflow');
  });

  it('auto falls back to the pure-JS cpu backend when wasm fails too', async () => {
    const b = await selectBackend('auto', { node: missing, wasm: async () => { throw new Error('no wasm here'); } });
    expect(b.name).toBe('cpu');
    expect(b.notes).toHaveLength(2);
  });

  it('an explicit backend that cannot start is a one-line runtime error', async () => {
    await expect(selectBackend('node', { ...loaders, node: missing })).rejects.toMatchObject({
      kind: 'runtime',
      message: expect.stringMatching(/^backend node: @tensorflow\/tfjs-node is not installed or does not load/),
    });
  });
});
