// Reward files that do not compile reach the Problems panel on the right file, line and column:
// compiled by the real reward runner and reported by a real forked trainer process, then
// folded into problems as the extension does (src/extension/reward-diagnostics/).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RewardFileError } from '../src/rewards/compile';
import { RewardRunner } from '../src/rewards/runner';
import { TrainerProcess, type TrainerProcessEvent } from '../src/trainer-process/client';
import { nextRewardProblems, noRewardProblems, problemsByFile, type RewardProblems } from '../src/extension/reward-diagnostics/reward-problems';
import { grpo } from './helpers/cli';

const SCRIPT = join(__dirname, '..', 'out', 'trainer-process.js');
const work = mkdtempSync(join(tmpdir(), 'grpo-reward-diagnostics-'));
const write = (file: string, text: string) => writeFileSync(join(work, file), text);

// The error is the `;` after `=` on line 3, behind non-ASCII text: esbuild counts that line in bytes.
const BROKEN = 'export function len(s: { completion: string }) {\n  return s.completion.length;\n}\nconst greeting = "héllo 😀"; const oops = ;\n';
const BROKEN_AT = { line: 3, character: BROKEN.split('\n')[3].lastIndexOf(';') };
const HELPER = 'export const SCALE = 1;\n';
const REWARD = "import { SCALE } from './lib/scale';\nexport function len(s: { completion: string }) {\n  return s.completion.length * SCALE;\n}\n";

before(() => {
  mkdirSync(join(work, 'lib'));
  write('broken.reward.ts', BROKEN);
  write('lib/scale.ts', HELPER);
  write('len.reward.ts', REWARD);
  write('data.jsonl', ['The cat', 'Hello'].map((prompt) => JSON.stringify({ prompt })).join('\n'));
});
after(() => rmSync(work, { recursive: true, force: true }));

function fold(events: readonly TrainerProcessEvent[]): RewardProblems {
  return events.reduce((problems, e) => nextRewardProblems(problems, e, work), noRewardProblems);
}

test('a compile error behind non-ASCII text is located in editor columns, not esbuild bytes', async () => {
  const error = await RewardRunner.start([{ file: 'broken.reward.ts' }], { workspaceRoot: work, workers: 1 }).then(
    () => assert.fail('a broken reward file must not start'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RewardFileError, String(error));
  assert.deepEqual(
    { file: error.problem.file, line: error.problem.line - 1, character: error.problem.column - 1 },
    { file: 'broken.reward.ts', ...BROKEN_AT },
  );
});

test('a reward file that threw while loading and is then undone is reported back at its version', async () => {
  write('undo.reward.ts', 'export const one = () => 1;\n');
  const runner = await RewardRunner.start([{ file: 'undo.reward.ts' }], { workspaceRoot: work, workers: 1 });
  try {
    const good = runner.versions()['undo.reward.ts'];
    write('undo.reward.ts', 'export const one = () => 1;\nthrow new Error("not yet");\n');
    const failed = await runner.reload();
    assert.deepEqual(failed.failed.map((p) => [p.rewardFile, p.line]), [['undo.reward.ts', 2]]);
    write('undo.reward.ts', 'export const one = () => 1;\n');
    assert.deepEqual(await runner.reload(), { reloaded: [{ file: 'undo.reward.ts', version: good, previous: good }], failed: [] });
    assert.deepEqual(await runner.reload(), { reloaded: [], failed: [] }, 'said once');
  } finally {
    await runner.close();
  }
});

function settings(reward: string): Record<string, unknown> {
  return {
    model_path: 'model',
    dataset_path: 'data.jsonl',
    rewards: [{ file: reward }],
    output_dir: 'runs',
    num_iterations: 50,
    rollout_batch_size: 1,
    group_size: 2,
    minibatch_size: 2,
    max_new_tokens: 2,
    kl_coef: 0,
    checkpoint_every: 0,
  };
}

/** A forked trainer process and every event it sent. */
function launch(reward: string) {
  assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing: run npm run build first`);
  if (!existsSync(join(work, 'model'))) {
    const r = grpo('init-model', '--arch', 'llama', '--out', join(work, 'model'), '--merges', '16', '--seed', '3');
    assert.equal(r.code, 0, r.stderr);
  }
  const trainer = new TrainerProcess({ script: SCRIPT, backend: process.env.GRPO_TEST_BACKEND ?? 'wasm', cwd: work });
  const events: TrainerProcessEvent[] = [];
  const waiting: { type: string; resolve: () => void }[] = [];
  trainer.onEvent((e) => {
    events.push(e);
    for (const w of waiting.filter((w) => w.type === e.type)) w.resolve();
  });
  const next = (type: TrainerProcessEvent['type']) => new Promise<void>((resolve) => waiting.push({ type, resolve }));
  trainer.start({ config: settings(reward), workspaceRoot: work });
  return { trainer, events, next };
}

test('a reward file that stops the run at start is a problem on its line, kept after the process ends', { timeout: 60_000 }, async () => {
  const { trainer, events } = launch('broken.reward.ts');
  const end = await trainer.ended;
  assert.equal(end.type, 'crashed');
  const problems = [...fold(events).values()];
  assert.deepEqual(
    problems.map((p) => ({ file: p.file, line: p.line, character: p.character, during: p.during })),
    [{ file: join(work, 'broken.reward.ts'), ...BROKEN_AT, during: 'start' }],
  );
  assert.match(problems[0].message, /^Unexpected ";" \(training did not start: fix this and start again\)$/);
});

test('a live edit that breaks an import is a problem in the import until the edit is undone', { timeout: 60_000 }, async () => {
  const { trainer, events, next } = launch('len.reward.ts');
  await next('metrics');
  let paused = next('paused');
  trainer.pause();
  await paused;

  write('lib/scale.ts', 'export const SCALE = 2 *;\n');
  paused = next('paused');
  trainer.step();
  await paused;
  const broken = fold(events);
  assert.deepEqual([...problemsByFile(broken).keys()], [join(work, 'lib/scale.ts')]);
  const problem = broken.get(join(work, 'len.reward.ts'));
  assert.ok(problem, 'kept under the reward file whose reload it blocks');
  assert.deepEqual({ line: problem.line, character: problem.character, during: problem.during }, { line: 0, character: 24, during: 'reload' });
  assert.match(problem.message, /\(training keeps the last good version of len\.reward\.ts until this is fixed\)$/);

  write('lib/scale.ts', HELPER); // back to the version in use: nothing reloads, yet the problem is gone
  paused = next('paused');
  trainer.step();
  await paused;
  assert.equal(fold(events).size, 0);
  await trainer.stop({ graceMs: 10_000 });
});

test('the end of a session drops reload problems and keeps start problems', () => {
  const reloadFailed: TrainerProcessEvent = { type: 'reward-reload-failed', file: 'a.reward.ts', message: 'Unexpected "}"', line: 4, column: 2, rewardFile: 'a.reward.ts' };
  const startFailed: TrainerProcessEvent = {
    type: 'fatal',
    message: 'b.reward.ts:1:1: ...',
    userError: true,
    rewardProblem: { file: 'b.reward.ts', line: 0, column: 0, message: 'exports no reward function' },
  };
  const both = fold([reloadFailed, startFailed]);
  assert.deepEqual([...both.values()].map((p) => [p.file, p.line, p.character]), [
    [join(work, 'a.reward.ts'), 3, 1],
    [join(work, 'b.reward.ts'), 0, 0], // no location: the top of the file
  ]);
  assert.equal(nextRewardProblems(both, { type: 'reward-reloaded', file: 'other.reward.ts', version: 'v' }, work), both, 'another file\'s reload changes nothing');
  const ended = nextRewardProblems(both, { type: 'crashed', code: 1, signal: null, stderrTail: '' }, work);
  assert.deepEqual([...ended.keys()], [join(work, 'b.reward.ts')]);
});
