import { before } from 'node:test';
import { initBackend, type BackendName } from '../../src/engine/backend';

/**
 * Runs a test file on the backend users get by default here (wasm), or on the one named by
 * GRPO_TEST_BACKEND, so the same suite can be pointed at cpu or tensorflow.
 */
export function useTestBackend(): void {
  before(async () => {
    await initBackend((process.env.GRPO_TEST_BACKEND as BackendName | undefined) ?? 'wasm');
  });
}
