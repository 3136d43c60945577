// `grpo rescore` on a run folder written by the real trainer, with its reward file edited
// afterwards: the report must say what the edited reward implies, computed here on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rescoreReportProblem, type RescoreReport } from '../src/rescore/report';
import { grpo } from './helpers/cli';
import { ANSWER_REWARD, trainRun } from './helpers/rescore-run';

const run = trainRun();
const GROUP_SIZE = 4;
const WEIGHT = 2; // the run's weight for answer.reward.ts

interface Line {
  group: number;
  member: number;
  row: number;
  completion: string;
  reward: number | null;
  rewards: Record<string, number | null>;
  advantage: number | null;
}

const rolloutLines = (iteration: number): Line[] =>
  readFileSync(join(run.runDir, 'rollouts', `iter-${String(iteration).padStart(6, '0')}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);
const answers = readFileSync(join(__dirname, '..', 'examples', 'demo', 'train.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => String((JSON.parse(l) as { answer: string }).answer));

function rescore(...args: string[]): RescoreReport {
  const r = grpo('rescore', '--run', run.runDir, '--json', ...args);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as unknown;
  assert.equal(rescoreReportProblem(report), undefined);
  return report as RescoreReport;
}

/** Group-relative advantages as DESIGN.md states them: (R - mean) / (unbiased std + 1e-4); 0 for a flat group. */
function expectedAdvantages(rewards: number[]): number[] {
  const out: number[] = [];
  for (let g = 0; g < rewards.length; g += GROUP_SIZE) {
    const r = rewards.slice(g, g + GROUP_SIZE);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const std = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
    out.push(...r.map((x) => (std <= 1e-8 ? 0 : (x - mean) / (std + 1e-4))));
  }
  return out;
}

// Reported values are rounded to 5 decimals as the rollouts file rounds them.
const TOLERANCE = 1e-5;
const close = (got: number | null, want: number, what: string) => assert.ok(got !== null && Math.abs(got - want) <= TOLERANCE, `${what}: ${got} vs ${want}`);

test('an unchanged reward gives the recorded rewards and advantages exactly', () => {
  writeFileSync(run.rewardFile, ANSWER_REWARD);
  const report = rescore();
  const lines = rolloutLines(2);
  assert.equal(report.iteration, 2, 'the newest iteration by default');
  assert.equal(report.samples.length, lines.length);
  assert.ok(lines.some((l) => l.advantage !== 0), 'the run has groups whose rewards vary');
  report.samples.forEach((s, i) => {
    assert.equal(s.completion, lines[i].completion);
    assert.equal(s.newReward, s.oldReward);
    assert.equal(s.oldReward, lines[i].reward);
    assert.deepEqual(s.newRewards, s.oldRewards);
    assert.equal(s.newAdvantage, s.oldAdvantage);
    assert.equal(s.oldAdvantage, lines[i].advantage);
  });
  assert.equal(report.summary.signFlips, 0);
  assert.equal(report.summary.newMeanReward, report.summary.oldMeanReward);
  assert.equal(report.summary.newZeroStdShare, report.summary.oldZeroStdShare);
  assert.equal(report.summary.rewardFailures, 0);
  const metrics = readFileSync(join(run.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(report.summary.oldZeroStdShare, metrics[1].frac_reward_zero_std, "the trainer's own share of flat groups");
  assert.deepEqual(report.rewards.map((r) => [r.name, r.weight]), [['correct', WEIGHT]]);
});

test('an edited reward: new per-function values, weighted totals and advantages as the new code implies', () => {
  writeFileSync(
    run.rewardFile,
    `export function closeness(sample: { completion: string; row: { answer: string } }): number {
  const n = Number.parseInt(sample.completion.trim(), 10);
  return Number.isNaN(n) ? -100 : -Math.abs(n - Number(sample.row.answer));
}
export function even(sample: { completion: string }): number {
  return Number(sample.completion.trim().slice(-1)) % 2 === 0 ? 1 : 0;
}
`,
  );
  let flipsSeen = 0;
  for (const iteration of [1, 2]) {
    const report = rescore('--iteration', String(iteration));
    const lines = rolloutLines(iteration);
    assert.equal(report.iteration, iteration);
    const closeness = lines.map((l) => {
      const n = Number.parseInt(l.completion.trim(), 10);
      return Number.isNaN(n) ? -100 : 0 - Math.abs(n - Number(answers[l.row])); // 0 - x: JSON has no -0
    });
    const even = lines.map((l) => (Number(l.completion.trim().slice(-1)) % 2 === 0 ? 1 : 0));
    const totals = lines.map((_, i) => WEIGHT * (closeness[i] + even[i]));
    const advantages = expectedAdvantages(totals);
    report.samples.forEach((s, i) => {
      assert.deepEqual(s.newRewards, { closeness: closeness[i], even: even[i] });
      assert.deepEqual(s.oldRewards, lines[i].rewards);
      close(s.newReward, totals[i], `sample ${i} reward`);
      close(s.newAdvantage, advantages[i], `sample ${i} advantage`);
      assert.equal(s.oldAdvantage, lines[i].advantage);
    });
    const flips = lines.filter((l, i) => (l.advantage ?? 0) * advantages[i] < -1e-9).length;
    assert.equal(report.summary.signFlips, flips);
    flipsSeen += flips;
    close(report.summary.newMeanReward, totals.reduce((a, b) => a + b, 0) / totals.length, 'mean reward');
    const flat = report.groups.map((_, k) => new Set(totals.slice(k * GROUP_SIZE, (k + 1) * GROUP_SIZE)).size === 1);
    assert.deepEqual(report.groups.map((g) => g.newZeroStd), flat);
    assert.equal(report.summary.newZeroStdShare, flat.filter(Boolean).length / report.groups.length);
  }
  assert.ok(flipsSeen > 0, 'the edit turns some advantages around');
});

test('a reward that throws on some completions: those are failures with no reward and advantage 0', () => {
  writeFileSync(
    run.rewardFile,
    `export function noSevens(sample: { completion: string }): number {
  if (sample.completion.includes('7')) throw new Error('seven in ' + sample.completion);
  return sample.completion.length;
}
`,
  );
  const report = rescore();
  const lines = rolloutLines(2);
  const failing = lines.map((l, i) => (l.completion.includes('7') ? i : -1)).filter((i) => i >= 0);
  assert.ok(failing.length > 0 && failing.length < lines.length, 'the rollout has completions with and without a 7');
  assert.equal(report.summary.rewardFailures, failing.length);
  assert.deepEqual(report.errors.flatMap((e) => e.samples).sort((a, b) => a - b), failing);
  assert.ok(report.errors.every((e) => e.fn === 'noSevens' && e.kind === 'threw' && /seven in/.test(e.message)));
  for (const i of failing) {
    assert.equal(report.samples[i].newReward, null);
    assert.equal(report.samples[i].newAdvantage, 0);
  }
  const totals = lines.map((l) => WEIGHT * l.completion.length);
  report.samples.forEach((s, i) => failing.includes(i) || close(s.newReward, totals[i], `sample ${i} reward`));
});

test('--reward scores with other files: a file the run had keeps its weight, a new one weighs 1', () => {
  writeFileSync(run.rewardFile, ANSWER_REWARD);
  const extra = join(run.workspace, 'length.reward.ts');
  writeFileSync(extra, 'export function length(sample: { completion: string }): number {\n  return sample.completion.length;\n}\n');
  const report = rescore('--reward', run.rewardFile, '--reward', extra);
  assert.deepEqual(report.rewards.map((r) => [r.name, r.weight]), [['correct', WEIGHT], ['length', 1]]);
  const lines = rolloutLines(2);
  const totals = lines.map((l) => WEIGHT * (l.completion.trim() === answers[l.row] ? 1 : 0) + l.completion.length);
  const advantages = expectedAdvantages(totals);
  report.samples.forEach((s, i) => {
    close(s.newReward, totals[i], `sample ${i} reward`);
    close(s.newAdvantage, advantages[i], `sample ${i} advantage`);
  });
  const only = rescore('--reward', extra);
  assert.deepEqual(only.rewards.map((r) => r.name), ['length']);
  only.samples.forEach((s, i) => close(s.newReward, lines[i].completion.length, `sample ${i} reward`));
});

test('the table names the run, the summary and each completion as quoted text', () => {
  writeFileSync(run.rewardFile, ANSWER_REWARD);
  const r = grpo('rescore', '--run', run.runDir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Run .*${run.runDir.split('/').pop()}, iteration 2: 16 completions in 4 groups of 4`));
  assert.match(r.stdout, /advantage sign flips: 0 of 16/);
  for (const l of rolloutLines(2)) assert.ok(r.stdout.includes(JSON.stringify(l.completion)), `completion ${JSON.stringify(l.completion)} shown`);
});

function assertOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
}

test('bad inputs are one clear line each', () => {
  const bare = join(run.workspace, 'bare-run');
  mkdirSync(join(bare, 'rollouts'), { recursive: true });
  cpSync(join(run.runDir, 'config.json'), join(bare, 'config.json'));
  assertOneLineError(grpo('rescore', '--run', bare), /rollouts: no rollouts yet; rescore needs a run that has completed at least one iteration/);
  assertOneLineError(grpo('rescore', '--run', run.workspace), /config\.json: not found; .* is not a GRPO run folder/);
  assertOneLineError(grpo('rescore'), /grpo rescore: --run is required/);
  assertOneLineError(grpo('rescore', '--run', run.runDir, '--iteration', '9'), /iteration 9 has no rollouts file; choose --iteration from 1, 2/);
  assertOneLineError(grpo('rescore', '--run', run.runDir, '--reward', join(run.workspace, 'nowhere.reward.ts')), /--reward .*nowhere\.reward\.ts: file not found/);

  writeFileSync(run.rewardFile, 'export function broken(sample: { completion: string }): number {\n  return sample.completion.length\n  const = 3;\n}\n');
  assertOneLineError(grpo('rescore', '--run', run.runDir), /answer\.reward\.ts:3:\d+: .*does not compile/);

  rmSync(run.rewardFile);
  assertOneLineError(grpo('rescore', '--run', run.runDir), /reward file .*answer\.reward\.ts of the run \(.*config\.json\) not found; restore it, or name the reward files to score with --reward/);
  writeFileSync(run.rewardFile, ANSWER_REWARD);
});

test('reward weights changed live, as the newest checkpoint holds them, are the weights scored with', () => {
  writeFileSync(run.rewardFile, ANSWER_REWARD);
  const stateFile = join(run.runDir, 'checkpoints', 'iter-000002', 'trainer-state.json');
  const saved = readFileSync(stateFile, 'utf8');
  const state = JSON.parse(saved) as { live: Record<string, unknown> };
  writeFileSync(stateFile, JSON.stringify({ ...state, live: { ...state.live, rewardWeights: { correct: 5, gone: 3 } } }));
  try {
    const report = rescore();
    assert.deepEqual(report.rewards.map((r) => [r.name, r.weight]), [['correct', 5]], 'a weight for a function no longer there is ignored');
    const lines = rolloutLines(2);
    report.samples.forEach((s, i) => close(s.newReward, 5 * (lines[i].completion.trim() === answers[lines[i].row] ? 1 : 0), `sample ${i} reward`));
  } finally {
    writeFileSync(stateFile, saved);
  }
});
