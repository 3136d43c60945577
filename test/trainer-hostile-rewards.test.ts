// Hostile reward code in a real training run: every kind of misbehaviour at once, each
// contained in its own process, reported per iteration with function and error, and the run
// goes on to the end with a readable run folder, scored by the function that behaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpo } from './helpers/cli';
import { jsonLines, smallRunConfig, trainToEnd } from './helpers/train-run';

const work = mkdtempSync(join(tmpdir(), 'grpo-hostile-'));
const outside = join(mkdtempSync(join(tmpdir(), 'grpo-hostile-outside-')), 'stolen.txt');
const ITERATIONS = 3;

const HOSTILE = `import { writeFileSync } from 'node:fs';
import { batched } from 'grpo-studio/reward';
type S = { completion: string };
export function vowels(s: S) { return (s.completion.match(/[aeiou]/g) ?? []).length / Math.max(1, s.completion.length); }
export function spins(s: S) { for (;;) {} }
export function exits(s: S) { process.exit(1); }
export function throws(s: S) { throw new Error('boom from a reward'); }
export function text(s: S) { return 'high' as unknown as number; }
export function notANumber(s: S) { return NaN; }
export const wrongLength = batched((samples: S[]) => [1]);
export function writesOutside(s: S) { writeFileSync(${JSON.stringify(outside)}, s.completion); return 1; }
export function killsTrainer(s: S) { process.kill(process.ppid, 'SIGKILL'); return 1; }
`;

test('a run whose reward file loops, exits, throws, returns junk, writes outside and signals the trainer trains to the end', async () => {
  const model = join(work, 'model');
  const made = grpo('init-model', '--arch', 'qwen2', '--out', model, '--merges', '32', '--seed', '5');
  assert.equal(made.code, 0, made.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Once upon', 'Hello there'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(join(work, 'vowels.reward.ts'), HOSTILE);
  const config = smallRunConfig(work, model, {
    num_iterations: ITERATIONS,
    rollout_batch_size: 2,
    group_size: 4,
    minibatch_size: 8,
    max_new_tokens: 4,
    kl_coef: 0,
    reward_timeout_ms: 1500,
    checkpoint_every: 1,
  });
  const { runDir, events } = await trainToEnd(config, work);

  const finished = events.find((e) => e.type === 'finished') as { reason: string } | undefined;
  assert.equal(finished?.reason, 'completed');
  const metrics = jsonLines(join(runDir, 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => m.iteration), [1, 2, 3]);
  assert.ok(metrics.every((m) => Number.isFinite(m['rewards/vowels/mean'])), 'the well-behaved function scored every iteration');
  assert.equal(existsSync(outside), false, 'nothing was written outside the workspace');

  const expected: Record<string, RegExp> = {
    spins: /did not finish within 1500 ms/,
    exits: /stopped with code 1/,
    throws: /boom from a reward/,
    text: /string/,
    notANumber: /NaN/,
    wrongLength: /1 value|length|expected 8/i,
    writesOutside: /ERR_ACCESS_DENIED|restricted/,
    killsTrainer: /may not signal other processes/,
  };
  for (let it = 1; it <= ITERATIONS; it++) {
    const file = join(runDir, 'reward-errors', `iter-00000${it}.json`);
    const { failed } = JSON.parse(readFileSync(file, 'utf8')) as { failed: { fn: string; errors: { message: string }[] }[] };
    const byFn = new Map(failed.map((f) => [f.fn, f.errors.map((e) => e.message).join(' | ')]));
    assert.equal(byFn.has('vowels'), false);
    for (const [fn, re] of Object.entries(expected)) assert.match(byFn.get(fn) ?? `(${fn} not reported)`, re, `iteration ${it}, ${fn}`);
    assert.equal(jsonLines(join(runDir, 'rollouts', `iter-00000${it}.jsonl`)).length, 8, 'rollouts stay readable');
  }
  assert.ok(existsSync(join(runDir, 'checkpoints', `iter-00000${ITERATIONS}`, 'trainer-state.json')));
});
