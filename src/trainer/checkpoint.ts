import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors';
import type { CausalLM } from '../model/causal-lm';
import { readSafetensors, writeSafetensors, type TensorData } from '../model/safetensors';
import { writeAdapterFolder } from '../model/peft-adapter';
import { copyTokenizerFiles, saveModel } from '../model/save';
import type { DataOrderState } from './data-order';
import type { EntropyBonusState } from './entropy-bonus';
import type { LiveSettings } from './live-settings';
import type { AdamW, AdamWState } from './optimizer';
import { listCheckpoints, OPTIMIZER_FILE, REFERENCE_FILE, STATE_FILE } from './checkpoint-files';
import { runWriteError } from './disk-errors';
import { iterName } from './run-dir';
import { momentsFromTensors, parseTrainerState } from './trainer-state';


/** Everything besides weights and moments that an exact resume needs. */
export interface TrainerState {
  format: 1;
  iteration: number; // iterations completed
  dataOrder: DataOrderState;
  consecutiveSkipped: number;
  live: LiveSettings;
  rewardVersions: Record<string, string>;
  optimizerStep: number;
  /** TRL's num_tokens so far; absent in checkpoints written before it was counted. */
  numTokens?: number;
  /** The adaptive entropy controller; absent before it existed (then it starts afresh). */
  entropyBonus?: EntropyBonusState;
}


/**
 * Writes checkpoints/iter-N: an HF model folder (F32, so a resume is exact; a PEFT adapter
 * folder for a LoRA run, whose base is `tokenizerDir`, the run's model_path) plus the
 * optimizer moments, the reference weights and the trainer state. Everything is written into
 * a temporary folder that is renamed into place last, so a kill at any moment leaves the
 * previous checkpoints intact and never a half-written iter-N. Keeps the newest `keep`.
 * A write the disk refuses (full, read-only) throws a UserError naming the folder and the fix.
 */
export async function saveCheckpoint(
  checkpointsDir: string,
  parts: { model: CausalLM; tokenizerDir: string; optimizer: AdamW; reference?: Map<string, TensorData>; state: TrainerState },
  keep: number,
): Promise<string> {
  const name = iterName(parts.state.iteration);
  const final = join(checkpointsDir, name);
  const partial = join(checkpointsDir, `${PARTIAL}${name}-${process.pid}`);
  try {
    await rm(partial, { recursive: true, force: true });
    await mkdir(checkpointsDir, { recursive: true });
    await mkdir(partial); // not recursive: that reports a read-only folder as ENOENT
    if (parts.model.lora) {
      // A PEFT adapter folder (PeftModel.from_pretrained loads it onto the base), with the
      // tokenizer so that every command reads the checkpoint as a model folder.
      await writeAdapterFolder(partial, parts.model.lora, resolve(parts.tokenizerDir));
      await copyTokenizerFiles(parts.tokenizerDir, partial);
    } else {
      await saveModel(parts.model, partial, { dtype: 'F32', tokenizerDir: parts.tokenizerDir });
    }
    await writeSafetensors(join(partial, OPTIMIZER_FILE), momentTensors(await parts.optimizer.state(), parts.model), { dtype: 'F32' });
    if (parts.reference) await writeSafetensors(join(partial, REFERENCE_FILE), parts.reference, { dtype: 'F32' });
    await writeFile(join(partial, STATE_FILE), JSON.stringify(parts.state) + '\n'); // last: marks the folder complete
    await moveIntoPlace(partial, final, join(checkpointsDir, `${REPLACED}${name}-${process.pid}`));
  } catch (e) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    const previous = (await listCheckpoints(checkpointsDir).catch(() => [])).pop();
    throw runWriteError(e, final, previous ? `the previous checkpoint ${previous.path} is intact and the run can resume from it` : 'no earlier checkpoint of this run is complete');
  }
  try {
    await pruneCheckpoints(checkpointsDir, keep);
  } catch (e) {
    throw runWriteError(e, checkpointsDir, `checkpoint ${final} was saved, older ones could not be removed`);
  }
  return final;
}

// Temporary folders in checkpoints/: none matches iter-N, so no reader lists them.
const PARTIAL = '.partial-'; // a save being written
const REPLACED = '.replaced-'; // the checkpoint a save of the same iteration replaces
const PRUNED = '.pruned-'; // an old checkpoint being removed

/** Renames `partial` to `final`; an existing `final` (the same iteration saved again) is swapped out via `replaced`. */
async function moveIntoPlace(partial: string, final: string, replaced: string): Promise<void> {
  if (!existsSync(final)) {
    await rename(partial, final);
    return;
  }
  // A kill between these renames leaves only `replaced`: removeStaleSaves puts it back.
  await rename(final, replaced);
  await rename(partial, final);
  await rm(replaced, { recursive: true, force: true });
}

/**
 * Clears what a killed save left in `checkpointsDir`: temporary folders are removed, and a
 * complete checkpoint a save was replacing goes back in place when the save never finished.
 * For a resume, which owns the run folder: another process saving into it would lose its save.
 */
export async function removeStaleSaves(checkpointsDir: string): Promise<void> {
  if (!existsSync(checkpointsDir)) return;
  for (const name of await readdir(checkpointsDir)) {
    const path = join(checkpointsDir, name);
    const replaced = /^\.replaced-(iter-\d+)-\d+$/.exec(name);
    if (replaced && !existsSync(join(checkpointsDir, replaced[1])) && existsSync(join(path, STATE_FILE))) {
      await rename(path, join(checkpointsDir, replaced[1]));
    } else if (name.startsWith(PARTIAL) || name.startsWith(PRUNED) || replaced) {
      await rm(path, { recursive: true, force: true });
    }
  }
}

function momentTensors(state: AdamWState, model: CausalLM): Map<string, TensorData> {
  const trainable = model.trainable;
  const out = new Map<string, TensorData>();
  for (const [name, { m, v }] of state.moments) {
    const shape = trainable.get(name)!.shape.slice();
    out.set(`m/${name}`, { shape, data: m });
    out.set(`v/${name}`, { shape, data: v });
  }
  return out;
}

async function pruneCheckpoints(dir: string, keep: number): Promise<void> {
  if (keep <= 0) return; // keep_checkpoints 0 keeps every checkpoint
  const complete = await listCheckpoints(dir);
  for (const c of complete.slice(0, Math.max(0, complete.length - keep))) {
    // Renamed first: a kill while removing must not leave a half-removed iter-N that still
    // has its trainer-state.json, which would list it as complete.
    const doomed = join(dir, `${PRUNED}${basename(c.path)}-${process.pid}`);
    await rename(c.path, doomed);
    await rm(doomed, { recursive: true, force: true });
  }
}


export interface LoadedCheckpoint {
  path: string;
  state: TrainerState;
  optimizer: AdamWState;
  reference: Map<string, TensorData> | undefined;
}

/** Reads a checkpoint's state, moments and reference weights; the model loads from `path`. */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const stateFile = join(path, STATE_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(stateFile, 'utf8'));
  } catch (e) {
    throw new UserError(`${stateFile}: cannot be read (${(e as Error).message}); resume from an earlier checkpoint`);
  }
  const state = parseTrainerState(json, stateFile);
  const optimizerFile = join(path, OPTIMIZER_FILE);
  const moments = momentsFromTensors(await readSafetensors(optimizerFile), optimizerFile);
  const refFile = join(path, REFERENCE_FILE);
  return {
    path,
    state,
    optimizer: { step: state.optimizerStep, moments },
    reference: existsSync(refFile) ? await readSafetensors(refFile) : undefined,
  };
}
