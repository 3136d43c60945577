// `grpo bench --size S ...`: one whole GRPO iteration, through the CLI as bench/compare.sh runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpo } from './helpers/cli';

const FIELDS = [
  'rollout_s', 'logprobs_s', 'reward_s', 'update_s', 'iteration_s', 'tokens_generated', 'decode_tokens_per_s',
  'prefill_tokens_per_s', 'update_tokens_per_s', 'peak_rss_mb', 'gflops_achieved', 'gflops_peak',
];

test('bench --size tiny --json prints one iteration: every figure finite, phases within the iteration, P x G x L tokens', () => {
  const [p, g, n, l] = [1, 2, 4, 2];
  const r = grpo('bench', '--size', 'tiny', '--prompts', String(p), '--group', String(g), '--prompt-tokens', String(n), '--new-tokens', String(l), '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON object on stdout, got:\n${r.stdout}`);
  const out = JSON.parse(lines[0]);
  assert.equal(typeof out.backend, 'string');
  for (const f of FIELDS) {
    assert.equal(typeof out[f], 'number', `${f} is a number`);
    assert.ok(Number.isFinite(out[f]) && out[f] >= 0, `${f} = ${out[f]} is finite and not negative`);
  }
  for (const f of ['rollout_s', 'logprobs_s', 'update_s', 'iteration_s', 'decode_tokens_per_s', 'prefill_tokens_per_s', 'update_tokens_per_s', 'peak_rss_mb', 'gflops_peak']) {
    assert.ok(out[f] > 0, `${f} > 0`);
  }
  assert.equal(out.tokens_generated, p * g * l, 'EOS does not stop a row: every completion is L tokens');
  const phases = out.rollout_s + out.logprobs_s + out.reward_s + out.update_s;
  assert.ok(out.iteration_s >= phases - 1e-3, `iteration ${out.iteration_s} s holds its phases (${phases} s), within 1 ms`);
  assert.equal(out.optimizer_steps, 1, 'one AdamW step over all P x G completions');
  assert.equal(out.warmup_iterations, 1);
});

test('bench rejects a per-size flag in the whole-iteration mode, and --model with --size', () => {
  const mixed = grpo('bench', '--size', 'tiny', '--sizes', 'tiny');
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, /--sizes belongs to the per-size bench/);
  const both = grpo('bench', '--size', 'tiny', '--model', 'examples/demo/model');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /--model DIR or --size S, not both/);
});
