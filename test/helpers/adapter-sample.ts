// A LoRA run's adapter.json as the trainer writes it, and a run folder holding one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdapterInfo } from '../../src/trainer/adapter-info';
import { writeRun } from './run-folder-fixture';

export const ADAPTER: AdapterInfo = {
  r: 16,
  lora_alpha: 32,
  target_modules: ['q_proj', 'v_proj'],
  adapted_layers: 24,
  modules_to_save: [],
  use_rslora: false,
  trainable_parameters: 589824,
  base_parameters: 134515008,
};

/** A run folder (./run-folder-fixture) whose adapter.json holds `content`, written as is when a string. */
export function writeLoraRun(content: unknown = ADAPTER, iterations = 2): string {
  const dir = writeRun(iterations);
  writeFileSync(join(dir, 'adapter.json'), typeof content === 'string' ? content : JSON.stringify(content, null, 2) + '\n');
  return dir;
}
