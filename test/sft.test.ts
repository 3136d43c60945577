import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { sftCommand } from '../src/cli/commands/sft';
import { UserError } from '../src/errors';
import { generate } from '../src/model/generate';
import { loadCausalLM } from '../src/model/load';
import { Tokenizer } from '../src/tokenizer/tokenizer';
import { loadPromptDataset } from '../src/trainer/dataset';
import { trainSft } from '../src/trainer/sft';
import { encodeSftExamples } from '../src/trainer/sft-examples';
import { useTestBackend } from './helpers/backend';

useTestBackend();

const ROWS = [
  { prompt: 'cat says ', answer: 'meow' },
  { prompt: 'dog says ', answer: 'woof' },
  { prompt: 'cow says ', answer: 'moo' },
  { prompt: 'owl says ', answer: 'hoot' },
];

const work = mkdtempSync(join(tmpdir(), 'grpo-sft-'));
const modelDir = join(work, 'model');
const datasetFile = join(work, 'animals.jsonl');
writeFileSync(datasetFile, ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');

/**
 * Runs a command's function in a child process, as `grpo` would: the commands print to
 * stdout, which in this process carries the test runner's own reports.
 */
function runCommand(file: string, fn: string, argv: string[]): { code: number; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(file)}).${fn}(${JSON.stringify(argv)}).catch((e) => { process.stderr.write(e.message); process.exitCode = 1; })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, GRPO_BACKEND: process.env.GRPO_TEST_BACKEND ?? 'wasm' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh random model with a byte-level tokenizer (no merges: one token per character). */
function freshModel(): void {
  if (existsSync(join(modelDir, 'config.json'))) return;
  const r = runCommand(join(__dirname, '../src/cli/commands/init-model'), 'initModelCommand', [
    '--arch', 'llama', '--out', modelDir, '--merges', '0', '--hidden-size', '64', '--layers', '2', '--heads', '4', '--kv-heads', '2', '--intermediate-size', '128', '--seed', '3',
  ]);
  assert.equal(r.code, 0, r.stderr);
}

async function greedyAnswer(dir: string, prompt: string): Promise<string> {
  const model = await loadCausalLM(dir);
  const tok = await Tokenizer.load(dir);
  const [[out]] = await generate(model, [tok.encode(prompt)], {
    temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1,
    maxNewTokens: 8, groupSize: 1, eosTokenIds: tok.eosTokenIds, padTokenId: tok.padTokenId!, seed: 0,
  });
  model.dispose();
  assert.equal(out.finishReason, 'eos', 'the trained model should stop after the answer');
  return tok.decode(out.ids, { skipSpecialTokens: true });
}

test('SFT drives the answer loss down and leaks no tensors across steps', async () => {
  freshModel();
  const model = await loadCausalLM(modelDir);
  const tok = await Tokenizer.load(modelDir);
  const examples = encodeSftExamples(await loadPromptDataset(datasetFile), tok, false, datasetFile);
  const counts: number[] = [];
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  const summary = await trainSft(model, examples, { epochs: 40, learningRate: 3e-3, schedule: 'constant', batchSize: 4, seed: 1, padTokenId: tok.padTokenId! }, (s) => {
    counts.push(tf.memory().numTensors);
    losses.push(s.loss);
  });
  assert.equal(tf.memory().numTensors, before, 'the optimizer moments are freed when training ends');
  assert.ok(counts.every((n) => n === counts[0]), `tensor count changed across steps: ${[...new Set(counts)].join(', ')}`);
  assert.equal(summary.steps, 40);
  assert.equal(summary.skippedSteps, 0);
  // Random init: about ln(vocab 259) = 5.6 nats per token; learnt: far below.
  assert.ok(losses[0] > 4, `first loss ${losses[0]}`);
  assert.ok(losses[losses.length - 1] < 0.2, `last loss ${losses[losses.length - 1]}`);
  model.dispose();
});

test('grpo sft writes a model folder that answers a trained prompt greedily', async () => {
  freshModel();
  const out = join(work, 'sft-out');
  const r = runCommand(join(__dirname, '../src/cli/commands/sft'), 'sftCommand', [
    '--model', modelDir, '--dataset', datasetFile, '--out', out, '--epochs', '40', '--learning-rate', '3e-3', '--batch-size', '4', '--seed', '1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const text = r.stdout;
  assert.match(text, /epoch 40\/40 +step 40\/40 +loss \d/);
  assert.match(text, /tokens\/s/);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(existsSync(join(out, f)), `${f} missing`);
  assert.equal(await greedyAnswer(out, 'dog says '), 'woof');
  assert.equal(await greedyAnswer(out, 'owl says '), 'hoot');
});

async function userError(argv: string[]): Promise<string> {
  try {
    await sftCommand(argv);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'a user error is one line');
    return e.message;
  }
  assert.fail('expected a UserError');
}

test('mistakes a user can make are one-line errors naming the file, row or flag', async () => {
  freshModel();
  const base = ['--model', modelDir, '--out', join(work, 'unused')];
  assert.match(await userError([...base, '--dataset', join(work, 'nope.jsonl')]), /--dataset .*nope\.jsonl: not found/);
  assert.match(await userError([...base, '--dataset', datasetFile, '--epochs', 'two']), /--epochs must be an integer/);
  assert.match(await userError([...base, '--dataset', datasetFile, '--warmup', '3']), /unknown flag --warmup/);

  const noPrompt = join(work, 'no-prompt.jsonl');
  writeFileSync(noPrompt, '{"prompt": "a", "answer": "b"}\n{"question": "a", "answer": "b"}\n');
  assert.match(await userError([...base, '--dataset', noPrompt]), /no-prompt\.jsonl:2: .*"prompt"/);

  const noAnswer = join(work, 'no-answer.jsonl');
  writeFileSync(noAnswer, '{"prompt": "a", "answer": "b"}\n{"prompt": "c"}\n');
  assert.match(await userError([...base, '--dataset', noAnswer]), /no-answer\.jsonl: row 2 has no "answer" \(or "completion"\)/);

  assert.match(await userError([...base, '--dataset', datasetFile, '--max-tokens', '3']), /4 of 4 examples \(first: row 1\) are longer than --max-tokens 3; raise --max-tokens/);
});
