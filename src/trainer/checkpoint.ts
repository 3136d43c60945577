import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors';
import type { CausalLM } from '../model/causal-lm';
import { readSafetensors, writeSafetensors, type TensorData } from '../model/safetensors';
import { writeAdapterFolder } from '../model/peft-adapter';
import { copyTokenizerFiles, saveModel } from '../model/save';
import type { DataOrderState } from './data-order';
import type { EntropyBonusState } from './entropy-bonus';
import type { AdamW, AdamWState } from './optimizer';
import { listCheckpoints, OPTIMIZER_FILE, REFERENCE_FILE, STATE_FILE } from './checkpoint-files';
import { iterName } from './run-dir';

/** Settings a user changed while the run was going; they outlive a resume. */
export interface LiveSettings {
  learningRate?: number; // replaces the schedule from then on
  klCoef?: number;
  temperature?: number;
  rewardWeights?: Record<string, number>; // by reward function name
}

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
 */
export async function saveCheckpoint(
  checkpointsDir: string,
  parts: { model: CausalLM; tokenizerDir: string; optimizer: AdamW; reference?: Map<string, TensorData>; state: TrainerState },
  keep: number,
): Promise<string> {
  const final = join(checkpointsDir, iterName(parts.state.iteration));
  const partial = join(checkpointsDir, `.partial-${iterName(parts.state.iteration)}-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  if (parts.model.lora) {
    // A PEFT adapter folder (PeftModel.from_pretrained loads it onto the base), with the
    // tokenizer so that every command reads the checkpoint as a model folder.
    await writeAdapterFolder(partial, parts.model.lora, resolve(parts.tokenizerDir));
    await copyTokenizerFiles(parts.tokenizerDir, partial);
  } else {
    await saveModel(parts.model, partial, { dtype: 'F32', tokenizerDir: parts.tokenizerDir });
  }
  await writeSafetensors(join(partial, OPTIMIZER_FILE), momentTensors(parts.optimizer.state(), parts.model), { dtype: 'F32' });
  if (parts.reference) await writeSafetensors(join(partial, REFERENCE_FILE), parts.reference, { dtype: 'F32' });
  await writeFile(join(partial, STATE_FILE), JSON.stringify(parts.state) + '\n'); // last: marks the folder complete
  if (existsSync(final)) {
    // Saving the same iteration again (e.g. "save now" then stop): swap, then drop the old.
    const old = `${final}.old-${process.pid}`;
    await rename(final, old);
    await rename(partial, final);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(partial, final);
  }
  await pruneCheckpoints(checkpointsDir, keep);
  return final;
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
  for (const c of complete.slice(0, Math.max(0, complete.length - keep))) await rm(c.path, { recursive: true, force: true });
}


export interface LoadedCheckpoint {
  path: string;
  state: TrainerState;
  optimizer: AdamWState;
  reference: Map<string, TensorData> | undefined;
}

/** Reads a checkpoint's state, moments and reference weights; the model loads from `path`. */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(join(path, STATE_FILE), 'utf8')) as TrainerState;
  } catch (e) {
    throw new UserError(`${join(path, STATE_FILE)}: cannot be read (${(e as Error).message}); resume from an earlier checkpoint`);
  }
  if (state.format !== 1) throw new UserError(`${join(path, STATE_FILE)}: unknown format ${String(state.format)}; this GRPO Studio reads format 1`);
  const raw = await readSafetensors(join(path, OPTIMIZER_FILE));
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const [key, t] of raw) {
    const [kind, ...rest] = key.split('/');
    const name = rest.join('/');
    const entry = moments.get(name) ?? { m: new Float32Array(0), v: new Float32Array(0) };
    if (kind === 'm') entry.m = t.data;
    else entry.v = t.data;
    moments.set(name, entry);
  }
  const refFile = join(path, REFERENCE_FILE);
  return {
    path,
    state,
    optimizer: { step: state.optimizerStep, moments },
    reference: existsSync(refFile) ? await readSafetensors(refFile) : undefined,
  };
}
