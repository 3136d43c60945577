// TRL's checkpoints in a run folder: checkpoints/checkpoint-<optimizer step>, HF folders with
// trainer_state.json (TRL_STATE_FILE), which marks one complete.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointPathProblem, listCheckpoints, TRL_STATE_FILE } from '../trainer/checkpoint-files';

/** GRPOConfig as written into the run folder, for the user to read or reuse. */
export const TRL_CONFIG_FILE = 'trl-config.json';

/** Complete TRL checkpoints, oldest first, with the iteration each ends. */
export async function listTrlCheckpoints(dir: string, stepsPerIteration: number): Promise<{ iteration: number; step: number; path: string }[]> {
  if (!existsSync(dir)) return [];
  const out: { iteration: number; step: number; path: string }[] = [];
  for (const name of await readdir(dir)) {
    const m = /^checkpoint-(\d+)$/.exec(name);
    if (!m || checkpointPathProblem(dir, join(dir, name)) || !existsSync(join(dir, name, TRL_STATE_FILE))) continue;
    const step = Number(m[1]);
    out.push({ iteration: Math.floor(step / stepsPerIteration), step, path: join(dir, name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * A trl-engine run's checkpoints, from its run folder alone: its trl-config.json's
 * logging_steps is one iteration's optimizer steps. None for a tfjs-engine run.
 */
export async function trlCheckpointsOfRun(runDir: string): Promise<{ iteration: number; path: string }[]> {
  const file = join(runDir, TRL_CONFIG_FILE);
  if (!existsSync(file)) return [];
  let steps: unknown;
  try {
    steps = (JSON.parse(await readFile(file, 'utf8')) as { logging_steps?: unknown }).logging_steps;
  } catch {
    return []; // a damaged copy: the checkpoints stay where they are, unlisted
  }
  if (typeof steps !== 'number' || !(steps >= 1)) return [];
  return listTrlCheckpoints(join(runDir, 'checkpoints'), steps);
}

/** A run's complete checkpoints of either engine, oldest first: what a resume, a list or an export offers. */
export async function runCheckpoints(runDir: string): Promise<{ iteration: number; path: string }[]> {
  const ours = await listCheckpoints(join(runDir, 'checkpoints'));
  const trl = (await trlCheckpointsOfRun(runDir)).map(({ iteration, path }) => ({ iteration, path }));
  return [...ours, ...trl].sort((a, b) => a.iteration - b.iteration);
}
