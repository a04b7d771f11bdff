import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runtimeError, messageOf } from '../errors.js';
import type { BackendRequest } from '../options.js';

export type { BackendRequest };

/** The tfjs backend names behind our user-facing names. */
const TF_NAME = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' } as const;
export type ActiveBackend = keyof typeof TF_NAME;

export interface BackendInfo {
  /** node | wasm | cpu */
  name: ActiveBackend;
  /** why auto did not pick a faster backend, if it did not */
  notes: string[];
}

let active: BackendInfo | null = null;

export type Loaders = Record<'node' | 'wasm', () => Promise<void>>;

/** How each backend's package is brought in. */
export const loaders: Loaders = {
  node: async (): Promise<void> => {
    // tfjs-node is an optionalDependency: its install downloads libtensorflow, which fails behind
    // firewalls and offline; npm then leaves it out and this import throws.
    await import('@tensorflow/tfjs-node' as string);
  },
  wasm: async (): Promise<void> => {
    await import('@tensorflow/tfjs-backend-wasm');
  },
};

async function tryBackend(name: ActiveBackend, load: Loaders): Promise<void> {
  if (name !== 'cpu') await load[name]();
  const ok = await tf.setBackend(TF_NAME[name]);
  if (!ok) throw new Error(`tf.setBackend('${TF_NAME[name]}') failed`);
  await tf.ready();
}

/**
 * Activate a backend. auto: tfjs-node if it loads, else wasm, else the pure-JS cpu
 * backend, noting why each faster one was passed over. `load` is replaceable in tests.
 */
export async function selectBackend(request: BackendRequest, load: Loaders = loaders): Promise<BackendInfo> {
  tf.env().set('PROD', true); // silences tfjs' console advice about tfjs-node
  const notes: string[] = [];
  if (request !== 'auto') {
    try {
      await tryBackend(request, load);
    } catch (err) {
      throw runtimeError(
        request === 'node'
          ? `backend node: @tensorflow/tfjs-node is not installed or does not load (${firstLine(messageOf(err))}); it is optional and its install needs to download libtensorflow. Use --backend wasm or auto`
          : `backend ${request}: cannot start (${firstLine(messageOf(err))})`,
      );
    }
    return { name: request, notes };
  }
  for (const name of ['node', 'wasm', 'cpu'] as const) {
    try {
      await tryBackend(name, load);
      return { name, notes };
    } catch (err) {
      notes.push(`${name} unavailable: ${firstLine(messageOf(err))}`);
    }
  }
  throw runtimeError(`no tfjs backend could start: ${notes.join('; ')}`);
}

/** selectBackend once per thread (each worker thread selects its own). */
export async function initBackend(request: BackendRequest = 'auto'): Promise<BackendInfo> {
  if (active && (request === 'auto' || request === active.name) && tf.getBackend() === TF_NAME[active.name]) return active;
  active = await selectBackend(request);
  return active;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
