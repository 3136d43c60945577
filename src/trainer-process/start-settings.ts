// The training settings a `start` command names, read and checked as `grpo train` reads them.
import { join } from 'node:path';
import { assert, UserError } from '../errors';
import type { StartCommand } from '../protocol/trainer-messages';
import { loadTrainingConfig, parseTrainingConfig, TRAINING_CONFIG_FIELDS, trainingConfigWarnings, type TrainingConfig } from '../trainer/config';

export interface StartSettings {
  config: TrainingConfig;
  /** Valid but probably unintended settings, one line each. */
  warnings: string[];
}

/**
 * Settings from the command's config file, its inline config (relative paths from the
 * workspace), or the resumed run's snapshot. A config whose backend is "auto" takes
 * GRPO_BACKEND when set: that is how the editor's backend setting reaches the trainer,
 * while a backend written in the config file still wins.
 */
export async function readStartSettings(start: StartCommand, env: NodeJS.ProcessEnv = process.env): Promise<StartSettings> {
  let file: string;
  let config: TrainingConfig;
  const notes: string[] = [];
  if (start.config !== undefined) {
    file = `${start.workspaceRoot} (settings sent by the editor)`;
    config = parseTrainingConfig(start.config, file, { baseDir: start.workspaceRoot });
  } else if (start.configFile !== undefined) {
    file = start.configFile;
    config = await loadTrainingConfig(file, notes);
  } else {
    // The resumed run's own snapshot, whose absolute paths make it the same run.
    assert(start.resumeRunDir !== undefined, 'a start without settings names a run to resume (checked on receipt)');
    file = join(start.resumeRunDir, 'config.json');
    config = await loadTrainingConfig(file);
  }
  const requested = env.GRPO_BACKEND;
  if (config.backend === 'auto' && requested !== undefined && requested !== '') {
    const backend = TRAINING_CONFIG_FIELDS.backend.check(requested, { at: '' });
    if (!backend.ok) throw new UserError(`GRPO_BACKEND=${requested}: must be ${backend.expected}; fix the backend setting or unset GRPO_BACKEND`);
    config = { ...config, backend: backend.value };
  }
  return { config, warnings: [...notes.map((n) => `${file}: ${n}`), ...trainingConfigWarnings(config, file)] };
}
