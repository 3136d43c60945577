// A short version of the bundled demo (examples/demo): GRPO on the committed warm-start
// model must raise the reward. Seeded, so the run is the same on every machine with wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrainingConfig } from '../src/trainer/config';
import { Trainer } from '../src/trainer/trainer';

const demo = join(__dirname, '..', 'examples', 'demo');

test('the demo learns: 100 GRPO iterations raise held-out greedy accuracy and the training reward', async () => {
  const base = await loadTrainingConfig(join(demo, 'grpo.config.json'));
  const config = {
    ...base,
    output_dir: mkdtempSync(join(tmpdir(), 'grpo-demo-')),
    num_iterations: 100,
    eval_every: 0,
    checkpoint_every: 0,
    backend: (process.env.GRPO_TEST_BACKEND ?? 'wasm') as typeof base.backend,
  };
  const trainer = await Trainer.create(config, { workspaceRoot: demo });
  try {
    await trainer.train();
  } finally {
    await trainer.close();
  }
  const rewards = readFileSync(join(trainer.run.path, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).reward as number);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(rewards.slice(0, 20));
  const last = mean(rewards.slice(-20));
  assert.ok(last > first + 0.05, `training reward went from ${first.toFixed(3)} to ${last.toFixed(3)}`);
  const heldOut = readFileSync(join(trainer.run.path, 'evaluations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { iteration: number; reward: number });
  assert.deepEqual(heldOut.map((e) => e.iteration), [0, 100]);
  assert.ok(heldOut[1].reward >= heldOut[0].reward + 0.1, `held-out accuracy went from ${heldOut[0].reward} to ${heldOut[1].reward}`);
});
