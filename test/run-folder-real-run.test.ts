import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { hostMessageProblem } from '../src/protocol/dashboard-messages';
import { RunFolder } from '../src/run-folder/run-folder';
import { rolloutsMessage, snapshotMessage } from '../src/run-folder/snapshot';
import { loadTokenTexts } from '../src/run-folder/token-text';
import { demo, trainDemoRun } from './helpers/demo-run';

test('a run folder written by `grpo train` reads into valid dashboard messages with real token texts', async () => {
  const work = mkdtempSync(join(tmpdir(), 'grpo-real-run-'));
  const runDir = trainDemoRun(work);
  const runName = basename(runDir);
  const folder = new RunFolder(runDir);

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
