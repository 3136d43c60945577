// The `start` command the extension sends: the config file checked here first, so that a
// mistake shows before a process is forked, with the editor's settings applied on top.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors';
import type { StartCommand } from '../protocol/trainer-messages';
import { RunFolder } from '../run-folder/run-folder';
import { runCheckpoints } from '../trl/checkpoints';
import { parseTrainingConfig, trainingConfigWarnings, type TrainingConfig } from '../trainer/config';
import type { GrpoSettings } from './settings';

export interface PreparedStart {
  start: Omit<StartCommand, 'type'>;
  config: TrainingConfig;
  warnings: string[];
}

/**
 * Reads and checks `configFile` (relative paths from its own folder, so the run gets absolute
 * ones), applies `grpo.rewardTimeoutMs` as reward_timeout_ms where set, and sends the result
 * inline; reward imports resolve from `workspaceRoot`.
 */
export function prepareStart(configFile: string, workspaceRoot: string, settings: GrpoSettings): PreparedStart {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (e as Error).message;
    throw new UserError(`${configFile}: cannot read the training config (${why}); fix the file or the grpo.configFile setting`);
  }
  const notes: string[] = [];
  let config = parseTrainingConfig(json, configFile, { baseDir: dirname(configFile), notes });
  if (settings.rewardTimeoutMs > 0) config = { ...config, reward_timeout_ms: settings.rewardTimeoutMs };
  const warnings = [...notes.map((n) => `${configFile}: ${n}`), ...trainingConfigWarnings(config, configFile)];
  return { start: { config: { ...config }, workspaceRoot }, config, warnings };
}

/**
 * The `start` command that continues `runDir` from its newest complete checkpoint, with the
 * run's own settings (its config.json snapshot): what `grpo train --resume RUN_DIR` does.
 */
export async function prepareResume(runDir: string, workspaceRoot: string): Promise<PreparedStart> {
  const config = await new RunFolder(runDir).config();
  const newest = (await runCheckpoints(runDir)).pop();
  if (!newest) {
    throw new UserError(`${join(runDir, 'checkpoints')}: no complete checkpoint to resume from; start a new run with GRPO: Start Training`);
  }
  if (newest.iteration >= config.num_iterations) {
    throw new UserError(
      `${join(runDir, 'config.json')}: num_iterations is ${config.num_iterations} and the run has done them all; start a new run (GRPO: Start Training) to train further`,
    );
  }
  return { start: { resumeRunDir: runDir, workspaceRoot }, config, warnings: [] };
}
