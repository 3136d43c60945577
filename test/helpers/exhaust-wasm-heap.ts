// Fills the wasm backend's heap inside inPhase until the engine fails, and prints what the
// user would read: test/out-of-memory.test.ts runs it in a child process, since a full
// heap is fatal to the wasm instance.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { inPhase } from '../../src/engine/out-of-memory';

(async () => {
  await initBackend('wasm');
  const held: tf.Tensor[] = [];
  try {
    await inPhase('scoring the rollout under the policy', () => `${held.length} tensors of 400 MB held`, 'Lower memory_budget_mb', async () => {
      for (;;) held.push(tf.fill([100_000_000], 1));
    });
  } catch (e) {
    process.stdout.write(`${(e as Error).name}: ${(e as Error).message}\n`);
  }
})();
