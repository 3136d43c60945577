// Updates whose gradient overflows to Inf/NaN, in a real run on the demo model: each is skipped
// and counted in metrics.jsonl, max_consecutive_nonfinite of them in a row stop the run with a
// message naming the fix, and the weights and Adam state saved after the bad steps are the
// ones from before them. (test/optimizer.test.ts checks the skip on one AdamW step.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readSafetensors } from '../src/model/safetensors';
import { parseTrainingConfig } from '../src/trainer/config';
import type { TrainerEvent } from '../src/trainer/events';
import { iterName } from '../src/trainer/run-dir';
import { Trainer } from '../src/trainer/trainer';
import { jsonLines } from './helpers/train-run';

const demo = resolve(__dirname, '..', 'examples', 'demo');
const work = mkdtempSync(join(tmpdir(), 'grpo-faults-nonfinite-'));

// From the third iteration (ctx.iteration is 0-based) the rewards are +-3e38: advantages that
// large make gradients whose squares overflow float32, so the norm is Inf and the step is skipped.
const REWARD = `import { batched } from 'grpo-studio/reward';
export const blowup = batched((samples, ctx) =>
  samples.map((_, i) => (ctx.iteration < 2 ? i % 3 : i % 2 ? 3e38 : -3e38)));
`;

test('non-finite updates are skipped and counted, stop the run after max_consecutive_nonfinite, and leave the last good weights', async () => {
  writeFileSync(join(work, 'blowup.reward.ts'), REWARD);
  const config = parseTrainingConfig(
    {
      model_path: join(demo, 'model'),
      dataset_path: join(demo, 'train.jsonl'),
      rewards: [{ file: join(work, 'blowup.reward.ts') }],
      output_dir: join(work, 'runs'),
      backend: process.env.GRPO_TEST_BACKEND ?? 'wasm',
      num_iterations: 8,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 8, // one optimizer step per iteration: the skips in a row are iterations
      max_new_tokens: 5,
      learning_rate: 0.001,
      kl_coef: 0,
      scale_rewards: 'none', // the advantages keep the rewards' size
      checkpoint_every: 2, // and one more at the stop, after iteration 5
      keep_checkpoints: 0,
      max_consecutive_nonfinite: 3,
      seed: 1,
    },
    'test config',
  );
  const trainer = await Trainer.create(config, { workspaceRoot: work });
  const events: TrainerEvent[] = [];
  trainer.on((e) => events.push(e));
  try {
    await assert.rejects(
      () => trainer.train(),
      /3 updates in a row had a NaN or infinite loss or gradient; stopping\. Lower learning_rate.*the weights from before them are saved in .*iter-000005$/,
    );
  } finally {
    await trainer.close();
  }
  const run = trainer.run.path;
  const metrics = jsonLines(join(run, 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => [m.iteration, m.skipped_updates]), [[1, 0], [2, 0], [3, 1], [4, 1], [5, 1]]);
  const warned = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
  assert.deepEqual(warned, [3, 4, 5].map((i) => `iteration ${i}: 1 update(s) skipped for a NaN or infinite gradient`));
  assert.equal(events.at(-1)?.type, 'finished');

  // The checkpoints after the skipped iterations (4, and 5 at the stop) hold exactly iteration 2's weights and moments.
  const good = await readSafetensors(join(run, 'checkpoints', iterName(2), 'model.safetensors'));
  const goodMoments = await readSafetensors(join(run, 'checkpoints', iterName(2), 'optimizer.safetensors'));
  const start = await readSafetensors(join(demo, 'model', 'model.safetensors'));
  assert.ok([...good].some(([name, t]) => !start.get(name)!.data.every((v, i) => v === t.data[i])), 'iterations 1-2 did update the weights');
  for (const i of [4, 5]) {
    const dir = join(run, 'checkpoints', iterName(i));
    const weights = await readSafetensors(join(dir, 'model.safetensors'));
    for (const [name, t] of good) assert.deepEqual(weights.get(name)!.data, t.data, `iteration ${i}: ${name} moved in a skipped update`);
    const moments = await readSafetensors(join(dir, 'optimizer.safetensors'));
    for (const [name, t] of goodMoments) assert.deepEqual(moments.get(name)!.data, t.data, `iteration ${i}: Adam moment ${name} moved`);
  }
});
