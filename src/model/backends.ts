import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runtimeError, messageOf } from '../errors.js';

export type BackendRequest = 'auto' | 'node' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendRequest[] = ['auto', 'node', 'wasm', 'cpu'];

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

/** Exposed for tests: the import that brings in tfjs-node (replaceable to simulate its absence). */
export const loaders = {
  node: async (): Promise<void> => {
    // tfjs-node is an optionalDependency: its install downloads libtensorflow, which fails behind
    // firewalls and offline; npm then leaves it out and this import throws.
    await import('@tensorflow/tfjs-node' as string);
  },
  wasm: async (): Promise<void> => {
    await import('@tensorflow/tfjs-backend-wasm');
  },
};

async function tryBackend(name: ActiveBackend): Promise<void> {
  if (name !== 'cpu') await loaders[name]();
  const ok = await tf.setBackend(TF_NAME[name]);
  if (!ok) throw new Error(`tf.setBackend('${TF_NAME[name]}') failed`);
  await tf.ready();
}

/**
 * Select the backend once per process (a worker thread is its own process here).
 * auto: tfjs-node if it loads, else wasm, else the pure-JS cpu backend.
 */
export async function initBackend(request: BackendRequest = 'auto'): Promise<BackendInfo> {
  tf.env().set('PROD', true); // silences tfjs' console advice about tfjs-node
  if (active && (request === 'auto' || request === active.name)) return active;
  const notes: string[] = [];
  if (request !== 'auto') {
    try {
      await tryBackend(request);
    } catch (err) {
      throw runtimeError(
        request === 'node'
          ? `backend node: @tensorflow/tfjs-node is not installed or does not load (${firstLine(messageOf(err))}); it is optional and its install needs to download libtensorflow. Use --backend wasm or auto`
          : `backend ${request}: cannot start (${firstLine(messageOf(err))})`,
      );
    }
    active = { name: request, notes };
    return active;
  }
  for (const name of ['node', 'wasm', 'cpu'] as const) {
    try {
      await tryBackend(name);
      active = { name, notes };
      return active;
    } catch (err) {
      notes.push(`${name} unavailable: ${firstLine(messageOf(err))}`);
    }
  }
  throw runtimeError(`no tfjs backend could start: ${notes.join('; ')}`);
}

export function activeBackend(): BackendInfo | null {
  return active;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
