// How many threads the update uses (update_threads): the decision and its reason, for the log.
import { availableParallelism } from 'node:os';
import type { ModelConfig } from '../model/config';
import { configParameters } from '../model/params';
import type { TrainingConfig } from './config';

/** Below this many parameters auto keeps the update on one thread (measured: bench/RESULTS.md). */
const AUTO_MIN_PARAMETERS = 5e6;

export function updateThreads(config: TrainingConfig, model: ModelConfig, backend: string, lora: boolean): { threads: 1 | 2; why: string } {
  if (backend !== 'wasm') return { threads: 1, why: `the ${backend} backend schedules its own threads` };
  if (lora) return { threads: 1, why: 'LoRA runs update on one thread' };
  if (config.update_threads === 1) return { threads: 1, why: 'update_threads 1' };
  if (config.update_threads === 2) return { threads: 2, why: 'update_threads 2' };
  if (availableParallelism() < 2) return { threads: 1, why: 'one core' };
  const parameters = configParameters(model);
  if (parameters < AUTO_MIN_PARAMETERS) return { threads: 1, why: `the model is small (${(parameters / 1e6).toFixed(2)}M parameters)` };
  return { threads: 2, why: 'auto' };
}
