import * as tf from '@tensorflow/tfjs-core';
import './backend'; // registers the cpu backend this reaches into

/**
 * TF.js's cpu backend prints a five-line banner urging tfjs-node on its first tensor in Node.
 * GRPO Studio already says which backend runs and why (tfjs-node is among what `auto` tries),
 * so the banner is marked as shown. Call once per process, before any tensor.
 */
export function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
  if (cpu !== null && 'firstUse' in cpu) cpu.firstUse = false;
}
