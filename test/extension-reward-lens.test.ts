// Reward CodeLenses: the declarations found by a line scan are the functions the real reward
// runner names, and the figures come from a real run folder written by `grpo train`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RewardRunner } from '../src/rewards/runner';
import { readLensData } from '../src/extension/reward-lens/lens-data';
import { rewardSample } from '../src/extension/reward-lens/open-reward-sample';
import { rewardDeclarations } from '../src/extension/reward-lens/reward-declarations';
import { lensTitle, rewardStats } from '../src/extension/reward-lens/reward-stats';
import { grpo } from './helpers/cli';

const ROOT = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'grpo-reward-lens-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Function name -> 0-based line, as the lens would place them. */
function declared(text: string, file: string): Map<string, number> {
  return new Map(rewardDeclarations(text, file).map((d) => [d.name, d.line]));
}

test('every function the runner loads from the example reward files has a lens line at its export', async () => {
  const files = readdirSync(join(ROOT, 'examples', 'rewards')).filter((f) => f.endsWith('.reward.ts')).map((f) => `examples/rewards/${f}`);
  const runner = await RewardRunner.start(files.map((file) => ({ file })), { workspaceRoot: ROOT, workers: 1 });
  try {
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const lines = declared(text, file);
      for (const r of runner.rewards().filter((x) => x.file === file)) {
        const line = lines.get(r.name);
        assert.ok(line !== undefined, `${file}: ${r.name} has no declaration line`);
        assert.match(text.split('\n')[line], new RegExp(`^export .*\\b${r.name}\\b`));
      }
    }
  } finally {
    await runner.close();
  }
});

test('default exports, export lists, async and batched rewards are named as the runner names them', async () => {
  const file = 'mixed.reward.ts';
  const text = [
    "import { batched } from 'grpo-studio/reward';",
    'export type Row = { answer: string };',
    'export const THRESHOLD = 3; // a constant, not a reward: the runner skips it',
    'export async function slow() { return 1; }',
    'export const many = batched((samples) => samples.map(() => 0.5));',
    'function shortOne(s: { completion: string }) { return s.completion.length < 3 ? 1 : 0; }',
    'export { shortOne as brief };',
    'export default function (s: { completion: string }) { return s.completion.length; }',
    '',
  ].join('\n');
  writeFileSync(join(work, file), text);
  const runner = await RewardRunner.start([{ file }], { workspaceRoot: work, workers: 1 });
  try {
    const names = runner.rewards().map((r) => r.name).sort();
    assert.deepEqual(names, ['brief', 'many', 'mixed', 'slow']);
    const lines = declared(text, join(work, file));
    assert.deepEqual(names.map((n) => [n, lines.get(n)]), [['brief', 6], ['many', 4], ['mixed', 7], ['slow', 3]]);
  } finally {
    await runner.close();
  }
});

test('a run folder gives each reward function its latest mean, std and failed samples', { timeout: 60_000 }, () => {
  const model = grpo('init-model', '--arch', 'llama', '--out', join(work, 'model'), '--merges', '16', '--seed', '3');
  assert.equal(model.code, 0, model.stderr);
  // Both rows in every iteration; `picky` throws on the "Hello" group: its errors count per failed sample.
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Hello'].map((prompt) => JSON.stringify({ prompt })).join('\n'));
  writeFileSync(
    join(work, 'score.reward.ts'),
    'export function length(s: { completion: string }) { return s.completion.length; }\nexport function picky(s: { prompt: string }) { if (s.prompt === "Hello") throw new Error("no"); return 1; }\n',
  );
  const config = {
    model_path: 'model', dataset_path: 'data.jsonl', rewards: [{ file: 'score.reward.ts' }], output_dir: 'runs',
    num_iterations: 2, rollout_batch_size: 2, group_size: 2, minibatch_size: 4, max_new_tokens: 3, kl_coef: 0, checkpoint_every: 0,
  };
  writeFileSync(join(work, 'grpo.config.json'), JSON.stringify(config));
  const r = grpo('train', '--config', join(work, 'grpo.config.json'));
  assert.equal(r.code, 0, r.stderr);
  const runDir = join(work, 'runs', readdirSync(join(work, 'runs'))[0]);

  return readLensData(runDir).then((data) => {
    assert.deepEqual(data.rewardFiles, [join(work, 'score.reward.ts')]);
    const last = JSON.parse(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()!);
    const errors = JSON.parse(readFileSync(join(runDir, 'reward-errors', 'iter-000002.json'), 'utf8')).failed;
    const picky = errors.find((f: { fn: string }) => f.fn === 'picky');
    const failedSamples = picky.errors.reduce((n: number, e: { samples: number[] }) => n + e.samples.length, 0);
    assert.equal(failedSamples, 2, 'the 2 completions of the Hello group');
    assert.deepEqual(data.stats.get('picky'), { name: 'picky', iteration: 2, mean: 1, std: 0, errors: 2 });
    const length = data.stats.get('length');
    assert.ok(length);
    assert.equal(length.mean, last['rewards/length/mean']);
    assert.equal(length.std, last['rewards/length/std']);
    assert.equal(length.errors, 0);
    assert.equal(lensTitle(data.stats.get('picky')!), 'reward picky: mean 1.000 ± 0.000 · 2 errors (iter 2)');
    return readLensData(runDir, last).then((live) => assert.deepEqual(live.stats, data.stats, 'a live run\'s metrics event gives the same figures'));
  }).then(async () => {
    // The best and worst sample lenses open the latest rollout's extremes by that function.
    const records = readFileSync(join(runDir, 'rollouts', 'iter-000002.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const lengths = records.map((r: { rewards: { length: number } }) => r.rewards.length);
    const best = await rewardSample({ runDir, fn: 'length', which: 'best' });
    const worst = await rewardSample({ runDir, fn: 'length', which: 'worst' });
    const at = (ref: { group: number; member: number }) => records.find((r: { group: number; member: number }) => r.group === ref.group && r.member === ref.member).rewards.length;
    assert.equal(best.iteration, 2);
    assert.equal(at(best), Math.max(...lengths));
    assert.equal(at(worst), Math.min(...lengths));
    // `picky` threw on the Hello group: its worst is among the samples it did score.
    const pickyWorst = await rewardSample({ runDir, fn: 'picky', which: 'worst' });
    assert.equal(records.find((r: { group: number; member: number }) => r.group === pickyWorst.group && r.member === pickyWorst.member).prompt.includes('Hello'), false);
    await assert.rejects(rewardSample({ runDir, fn: 'nosuch', which: 'best' }), /iter-000002\.jsonl: reward function "nosuch" scored no completion of iteration 2/);
  });
});

test('a function with no values shows n/a, and one error is singular', () => {
  const stats = rewardStats({ iteration: 7, 'rewards/none/mean': null, 'rewards/none/std': 0 }, [
    { fn: 'none', errors: [{ kind: 'threw', message: 'boom', samples: [3] }] },
  ]);
  assert.equal(lensTitle(stats.get('none')!), 'reward none: mean n/a ± 0.000 · 1 error (iter 7)');
});
