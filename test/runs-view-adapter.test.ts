// The Runs view on LoRA runs: the run's item says it is LoRA and its tooltip holds the adapter
// line; its checkpoints say they are adapters; a damaged adapter.json costs only that line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointDescription, checkpointTooltip, runDescription, runTooltip } from '../src/extension/runs-view/node-text';
import { isAdapterCheckpoint, readRunSummary } from '../src/extension/runs-view/run-list';
import { ADAPTER, writeLoraRun } from './helpers/adapter-sample';
import { writeRun } from './helpers/run-folder-fixture';

/** A complete checkpoint folder holding `files`. */
function checkpoint(runDir: string, iteration: number, files: string[]): string {
  const dir = join(runDir, 'checkpoints', `iter-${String(iteration).padStart(6, '0')}`);
  mkdirSync(dir, { recursive: true });
  for (const f of [...files, 'trainer-state.json']) writeFileSync(join(dir, f), '{}');
  return dir;
}

test('a LoRA run: "LoRA r=16" in the description, the full adapter line in the tooltip, its checkpoints are adapters', async () => {
  const runDir = writeLoraRun();
  checkpoint(runDir, 2, ['adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json']);
  const run = await readRunSummary(runDir);
  assert.deepEqual(run.adapter, ADAPTER);
  assert.equal(run.adapterProblem, undefined);
  assert.equal(runDescription(run, false), 'iter 2/100 · reward n/a · LoRA r=16');
  assert.equal(runTooltip(run), `${runDir}\nLoRA r=16 (alpha 32) on q_proj, v_proj: 0.590M trained of 134.52M`);
  const [cp] = run.checkpoints;
  assert.equal(cp.adapter, true);
  assert.equal(checkpointDescription(cp), 'LoRA adapter');
  assert.match(checkpointTooltip(cp), /PEFT LoRA adapter .*merged into its base model/s);
});

test('a full fine-tuning run: no LoRA text, and its checkpoints are model folders', async () => {
  const runDir = writeRun(2);
  checkpoint(runDir, 2, ['config.json', 'model.safetensors', 'tokenizer.json']);
  const run = await readRunSummary(runDir);
  assert.equal(run.adapter, undefined);
  assert.equal(run.adapterProblem, undefined);
  assert.equal(runDescription(run, false), 'iter 2/100 · reward n/a');
  assert.equal(runTooltip(run), runDir);
  assert.equal(run.checkpoints[0].adapter, false);
  assert.equal(checkpointDescription(run.checkpoints[0]), 'checkpoint');
  assert.match(checkpointTooltip(run.checkpoints[0]), /copies its Hugging Face model folder/);
});

test('a damaged adapter.json: the run still lists with its progress and checkpoints, without the adapter line, and says why', async () => {
  const runDir = writeLoraRun('{"r": 16, "lora_alpha": 3');
  checkpoint(runDir, 2, ['adapter_config.json', 'adapter_model.safetensors']);
  const run = await readRunSummary(runDir);
  assert.equal(run.iteration, 2);
  assert.equal(run.adapter, undefined);
  assert.match(run.adapterProblem ?? '', /adapter\.json: not JSON/);
  assert.equal(runDescription(run, false), 'iter 2/100 · reward n/a');
  assert.equal(runTooltip(run), runDir);
  assert.equal(run.checkpoints[0].adapter, true, 'the checkpoint is known by its own files');
});

test('an adapter checkpoint is one with adapter_config.json and no config.json', () => {
  const runDir = writeRun(0);
  assert.equal(isAdapterCheckpoint(checkpoint(runDir, 1, ['adapter_config.json', 'adapter_model.safetensors'])), true);
  assert.equal(isAdapterCheckpoint(checkpoint(runDir, 2, ['config.json', 'model.safetensors'])), false);
  assert.equal(isAdapterCheckpoint(checkpoint(runDir, 3, ['config.json', 'adapter_config.json'])), false, 'a whole model beside an adapter config exports as the model');
});
