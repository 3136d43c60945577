// A real trainer run to completion for tests that read its run folder, with every event kept.
import { readFileSync } from 'node:fs';
import type { TrainingConfig } from '../../src/trainer/config';
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
