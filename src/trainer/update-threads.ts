// How many threads the update uses (update_threads): the decision and its reason, for the log.
import { availableParallelism } from 'node:os';
import type { TrainingConfig } from './config';

export function updateThreads(config: TrainingConfig, backend: string, lora: boolean): { threads: 1 | 2; why: string } {
  if (backend !== 'wasm') return { threads: 1, why: `the ${backend} backend schedules its own threads` };
  if (lora) return { threads: 1, why: 'LoRA runs update on one thread' };
  if (config.update_threads === 1) return { threads: 1, why: 'update_threads 1' };
  if (config.update_threads === 2) return { threads: 2, why: 'update_threads 2' };
  if (availableParallelism() < 2) return { threads: 1, why: 'one core' };
  // Even the 0.33M demo gains: its bench update went 1.13 -> 0.63 s (bench/RESULTS.md).
  return { threads: 2, why: 'auto: a second TF.js on the other core' };
}
