// The plain-text report: model output appears quoted on one line, never as markup or layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RescoreReport } from '../src/rescore/report';
import { quoted, rescoreTable } from '../src/rescore/table';

const hostile = 'done\u2028\n# Title\n<img src=x onerror=alert(1)> [link](command:grpo.startTraining)\u001b[2J';

const report: RescoreReport = {
  runDir: '/w/.grpo/runs/20261124-090000',
  iteration: 3,
  rolloutsFile: '/w/.grpo/runs/20261124-090000/rollouts/iter-000003.jsonl',
  groupSize: 2,
  scaleRewards: 'group',
  rewards: [{ name: 'fmt', file: 'rewards/fmt.reward.ts', version: 'abc123', weight: 1 }],
  samples: [
    { group: 0, member: 0, row: 4, completion: hostile, oldReward: 1, newReward: 0, oldRewards: { fmt: 1 }, newRewards: { fmt: 0 }, oldAdvantage: 0.70706, newAdvantage: -0.70706 },
    { group: 0, member: 1, row: 4, completion: 'ok', oldReward: 0, newReward: null, oldRewards: { fmt: 0 }, newRewards: { fmt: null }, oldAdvantage: -0.70706, newAdvantage: 0 },
  ],
  groups: [{ group: 0, row: 4, prompt: 'Say\nhi', oldMean: 0.5, newMean: 0, oldStd: 0.70711, newStd: 0, oldZeroStd: false, newZeroStd: true }],
  summary: { oldMeanReward: 0.5, newMeanReward: 0, oldZeroStdShare: 0, newZeroStdShare: 1, signFlips: 1, rewardFailures: 1 },
  errors: [{ fn: 'fmt', file: 'rewards/fmt.reward.ts', kind: 'threw', message: 'bad\ninput', stack: 'at fmt (rewards/fmt.reward.ts:3:9)', samples: [1] }],
};

test('completions and prompts are JSON-quoted on one line, control characters escaped', () => {
  const table = rescoreTable(report);
  assert.ok(!table.includes('\n# Title'), 'a newline in a completion does not start a line');
  assert.ok(!table.includes('\u001b'), 'no terminal escape reaches the output');
  assert.ok(!table.includes('\u2028'), 'no Unicode line separator either');
  assert.ok(table.includes(quoted(hostile)));
  assert.equal(quoted('a\u001bb\u2028c\u0085d'), '"a\\u001bb\\u2028c\\u0085d"');
  assert.ok(table.includes('prompt "Say\\nhi"'));
  assert.ok(table.includes('"bad\\ninput"'));
});

test('changes read old -> new, flips and flat groups are marked, missing values are n/a', () => {
  const table = rescoreTable(report);
  assert.match(table, /0\.7071 -> -0\.7071 flip/);
  assert.match(table, /std 0\.7071 -> 0\.0000 \(zero std\)/);
  assert.match(table, /0\.0000 -> n\/a/);
  assert.match(table, /advantage sign flips: 1 of 2/);
  assert.match(table, /zero-std groups\s+0\.0%\s+100\.0%/);
  assert.match(table, /fmt \(rewards\/fmt\.reward\.ts\) threw on 1 sample\(s\)/);
});

test('long texts are shortened, still quoted', () => {
  const q = quoted('x'.repeat(500));
  assert.equal(q.length, 60);
  assert.ok(q.startsWith('"x') && q.endsWith('…"'));
});
