// The workspace's runs as the Runs view lists them: every run folder under each config's
// output_dir, with its progress from metrics.jsonl, its LoRA adapter from adapter.json and its
// complete checkpoints. Reads only JSON files, so it is safe in an untrusted workspace.
import { existsSync, lstatSync } from 'node:fs';
import { open, readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { readAdapterFile } from '../../run-folder/adapter-file';
import type { AdapterInfo } from '../../trainer/adapter-info';
import { runCheckpoints } from '../../trl/checkpoints';
import { DEFAULT_TRAINING_CONFIG } from '../../trainer/config';

export interface CheckpointEntry {
  /** The run folder the checkpoint belongs to. */
  runDir: string;
  iteration: number;
  /** checkpoints/iter-NNNNNN */
  path: string;
  /** A LoRA run's checkpoint: a PEFT adapter folder, not a whole model. */
  adapter: boolean;
}

export interface RunSummary {
  path: string;
  name: string;
  /** From the last whole line of metrics.jsonl; undefined before the first iteration ends. */
  iteration?: number;
  /** The snapshot's num_iterations. */
  total?: number;
  /** The last iteration's mean reward; null when every reward failed. */
  reward?: number | null;
  /** Complete checkpoints, newest first. */
  checkpoints: CheckpointEntry[];
  hasLog: boolean;
  /** A LoRA run's adapter; undefined for full fine-tuning, and when adapter.json could not be read. */
  adapter?: AdapterInfo;
  /** Why adapter.json could not be read, for the log. */
  adapterProblem?: string;
}

/** The folder a config's runs are written to: its output_dir, relative to the config's folder. */
export async function outputDirOf(configFile: string): Promise<string> {
  const base = dirname(resolve(configFile));
  const json = await readJson(configFile);
  const set = isRecord(json) && typeof json.output_dir === 'string' ? json.output_dir : undefined;
  return resolve(base, set ?? DEFAULT_TRAINING_CONFIG.output_dir); // a config that does not parse trains nowhere else
}

/** Run folders (those holding a config snapshot) under `outputDirs`, newest first. */
export async function listRunFolders(outputDirs: readonly string[]): Promise<string[]> {
  const runs = new Set<string>();
  for (const dir of new Set(outputDirs.map((d) => resolve(d)))) {
    for (const name of await readdirOrEmpty(dir)) {
      // A run folder is one the trainer made: a real folder, not a link planted in the runs
      // folder to show (or resume into) a folder elsewhere. output_dir itself may be a link.
      if (!isSymbolicLink(join(dir, name)) && existsSync(join(dir, name, 'config.json'))) runs.add(join(dir, name));
    }
  }
  // Run ids are UTC timestamps (src/trainer/run-dir.ts), so by name is by start time.
  return [...runs].sort((a, b) => basename(b).localeCompare(basename(a)) || b.localeCompare(a));
}

export async function readRunSummary(runDir: string): Promise<RunSummary> {
  const snapshot = await readJson(join(runDir, 'config.json'));
  const total = isRecord(snapshot) && typeof snapshot.num_iterations === 'number' ? snapshot.num_iterations : DEFAULT_TRAINING_CONFIG.num_iterations;
  const last = lastMetricsLine(await readTail(join(runDir, 'metrics.jsonl')));
  const { adapter, problem } = await readAdapterFile(runDir);
  return {
    path: runDir,
    name: basename(runDir),
    iteration: last?.iteration,
    total,
    reward: last?.reward,
    checkpoints: await completeCheckpoints(runDir),
    hasLog: existsSync(join(runDir, 'log.txt')),
    ...(adapter && { adapter }),
    ...(problem && { adapterProblem: problem }),
  };
}

/** The run's complete checkpoints, newest first. */
export async function completeCheckpoints(runDir: string): Promise<CheckpointEntry[]> {
  const complete = await runCheckpoints(runDir);
  return complete.map((c) => ({ runDir, ...c, adapter: isAdapterCheckpoint(c.path) })).reverse();
}

/**
 * Whether a checkpoint folder is a PEFT adapter (a LoRA run's: adapter_config.json, no
 * config.json) rather than a Hugging Face model folder. The file name is PEFT's, spelled here
 * because src/model/peft-adapter.ts, which declares it, loads TF.js.
 */
export function isAdapterCheckpoint(checkpoint: string): boolean {
  return existsSync(join(checkpoint, 'adapter_config.json')) && !existsSync(join(checkpoint, 'config.json'));
}

/** The last line that parses: the trainer may be appending, or was killed mid-line. */
function lastMetricsLine(text: string): { iteration: number; reward?: number | null } | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch {
      continue;
    }
    if (!isRecord(value) || typeof value.iteration !== 'number') continue;
    const reward = typeof value.reward === 'number' || value.reward === null ? value.reward : undefined;
    return { iteration: value.iteration, reward };
  }
  return undefined;
}

function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false; // gone meanwhile: existsSync says so next
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined; // missing or being rewritten: the view shows what it can
  }
}

/** Bytes read from the end of metrics.jsonl: several lines, however long the run. */
const TAIL_BYTES = 64 * 1024;

/** The end of `file` ('' when missing): its first line may be cut, which lastMetricsLine skips. */
async function readTail(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
}
