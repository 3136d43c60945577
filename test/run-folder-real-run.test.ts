import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hostMessageProblem } from '../src/protocol/dashboard-messages';
import { RunFolder } from '../src/run-folder/run-folder';
import { rolloutsMessage, snapshotMessage } from '../src/run-folder/snapshot';
import { loadTokenTexts } from '../src/run-folder/token-text';
import { grpo } from './helpers/cli';

const demo = resolve(__dirname, '..', 'examples', 'demo');

test('a run folder written by `grpo train` reads into valid dashboard messages with real token texts', async () => {
  const work = mkdtempSync(join(tmpdir(), 'grpo-real-run-'));
  const configFile = join(work, 'grpo.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      model_path: join(demo, 'model'),
      dataset_path: join(demo, 'train.jsonl'),
      rewards: [{ file: resolve(demo, '..', 'rewards', 'exact-answer.reward.ts') }],
      output_dir: join(work, 'runs'),
      num_iterations: 2,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 8,
      max_new_tokens: 5,
      learning_rate: 0.0001,
      kl_coef: 0.04,
      seed: 1,
    }),
  );
  const r = grpo('train', '--config', configFile);
  assert.equal(r.code, 0, r.stderr);
  const [runName] = readdirSync(join(work, 'runs'));
  const folder = new RunFolder(join(work, 'runs', runName));

  const decodeToken = await loadTokenTexts(join(demo, 'model'));
  const snapshot = await snapshotMessage(folder, { readOnly: true, decodeToken });
  assert.equal(hostMessageProblem(snapshot), undefined);
  assert.equal(snapshot.run.name, runName);
  assert.equal(snapshot.run.runDir, folder.path, 'the page keeps it, to be restored after a reload');
  assert.equal(snapshot.run.groupSize, 4);
  assert.deepEqual(snapshot.metrics.map((m) => m.iteration), [1, 2]);
  assert.deepEqual(snapshot.rolloutIterations, [1, 2]);
  assert.ok(Object.keys(snapshot.run.settings.rewardWeights).length > 0, 'reward weights named from the metrics');

  const first = await rolloutsMessage(folder, 1, decodeToken);
  assert.ok(first);
  assert.equal(hostMessageProblem(first), undefined);
  assert.equal(first.completions.length, 8);
  // Token by token, the texts add up to the completion (ASCII digits in the demo), and a
  // completion that ended on its end-of-sequence token shows that token too.
  for (const c of first.completions) {
    const joined = c.tokens.join('');
    assert.ok(joined.startsWith(c.completion), `${JSON.stringify(c.tokens)} vs ${JSON.stringify(c.completion)}`);
    if (c.finish_reason === 'eos') assert.ok(joined.length > c.completion.length, `${JSON.stringify(c.tokens)}: the end token is kept`);
  }
});
