// A real trainer run to completion for tests that read its run folder, with every event kept.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainingConfig, type TrainingConfig } from '../../src/trainer/config';
import type { TrainerEvent } from '../../src/trainer/events';
import { Trainer } from '../../src/trainer/trainer';

export async function trainToEnd(
  c: TrainingConfig,
  workspaceRoot: string,
  resumeRunDir?: string,
  listen?: (e: TrainerEvent, t: Trainer) => void,
): Promise<{ runDir: string; events: TrainerEvent[] }> {
  const trainer = await Trainer.create(c, { workspaceRoot, resumeRunDir });
  const events: TrainerEvent[] = [];
  trainer.on((e) => {
    events.push(e);
    listen?.(e, trainer);
  });
  try {
    await trainer.train();
  } finally {
    await trainer.close();
  }
  return { runDir: trainer.run.path, events };
}

/** The records of a JSONL file the run wrote. */
// Records of any shape, as JSON.parse gives them: each test reads the fields it checks.
export const jsonLines = (file: string): any[] =>
  readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/**
 * The settings of a small test run in `work`: the model folder given, `work`'s data.jsonl and
 * vowels.reward.ts, runs under `work`/runs, on the test backend; `settings` add the rest.
 */
export function smallRunConfig(work: string, model: string, settings: Record<string, unknown>): TrainingConfig {
  return parseTrainingConfig(
    {
      model_path: model,
      dataset_path: join(work, 'data.jsonl'),
      rewards: [{ file: join(work, 'vowels.reward.ts') }],
      output_dir: join(work, 'runs'),
      backend: process.env.GRPO_TEST_BACKEND ?? 'wasm',
      ...settings,
    },
    'test config',
  );
}
