// What `grpo train` prints while it trains (src/cli/train-progress.ts), fed trainer events and
// a fake clock: the same lines on a terminal and in a pipe, a status line only on a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainProgress } from '../src/cli/train-progress';
import { formatDuration, IterationRate } from '../src/cli/iteration-rate';
import type { TrainerEvent } from '../src/trainer/events';

class Capture {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(s: string): void {
    this.text += s;
  }
}

/** Iterations of 2 s each on the fake clock, with generation progress in between. */
function run(out: Capture, iterations: number, total: number): void {
  let now = 0;
  const progress = new TrainProgress(out, total, () => now);
  const send = (e: TrainerEvent) => progress.handle(e);
  send({ type: 'run-started', runDir: '/runs/r1', backend: 'wasm: test', model: '/m', parameters: 330_000 });
  for (let i = 1; i <= iterations; i++) {
    send({ type: 'iteration-started', iteration: i, learningRate: 1e-4 });
    send({ type: 'generation-progress', iteration: i, step: 2, maxNewTokens: 4 });
    now += 2000;
    send({ type: 'metrics', iteration: i, metrics: { iteration: i, reward: 0.25, reward_std: 0.5, loss: 0.01, entropy: 1.5, 'completions/mean_length': 3, frac_reward_zero_std: 0.5 } });
  }
  send({ type: 'finished', iteration: iterations, reason: 'completed', runDir: '/runs/r1' });
}

test('piped: the legend once, then one plain line per iteration with rate and time left, no carriage returns', () => {
  const out = new Capture(false);
  run(out, 3, 10);
  assert.doesNotMatch(out.text, /\r|\x1b/);
  assert.equal(out.text.match(/One line per iteration/g)?.length, 1, 'the legend is printed once');
  assert.equal(out.text.match(/^iteration +reward ± std +kl +loss/gm)?.length, 1, 'and the header once');
  const rows = out.text.split('\n').filter((l) => /^ +\d+\/10 /.test(l));
  assert.equal(rows.length, 3);
  assert.match(rows[0], /^ +1\/10 +0\.250 ± 0\.500 +- +0\.0100 +1\.500 +3\.0 +0\.50 +2\.00 +18s$/, 'kl is "-" without a KL term; 9 left at 2 s');
  assert.match(rows[2], / 2\.00 +14s$/);
  assert.doesNotMatch(out.text, /completed after/, 'a good end is left to the summary');
});

test('on a terminal a status line shows the phase, the rate and the time left, and is cleared before each line', () => {
  const out = new Capture(true);
  run(out, 2, 10);
  assert.match(out.text, /\r\x1b\[K {2}iteration 1\/10 generating \[#{10}\.{10}\] 2\/4 tokens/);
  assert.match(out.text, /\r\x1b\[K {2}iteration 2\/10 generating .* · 2\.00 s\/it · 18s left/);
  // What the terminal shows: each line is what follows its last carriage return and erase.
  const shown = out.text.split('\n').map((l) => l.split('\r\x1b[K').pop()!);
  const rows = shown.filter((l) => /^ +\d+\/10 /.test(l));
  assert.equal(rows.length, 2, 'the table lines survive the status line');
  assert.ok(rows.every((r) => !r.includes('generating')), 'and the status line never runs into them');
});

test('a stretch without learning signal is printed loudly, naming the exit status', () => {
  const out = new Capture(false);
  const progress = new TrainProgress(out, 10);
  progress.handle({ type: 'no-learning-signal', fromIteration: 1, iteration: 5, reason: 'rewards-failed', message: 'no learning signal in iterations 1-5: because' });
  assert.match(out.text, /^!{72}\n!! no learning signal in iterations 1-5: because\.\n!! Training goes on; grpo train will exit with status 3\.\n!{72}\n$/);
});

test('a failed run says so with its folder', () => {
  const out = new Capture(false);
  new TrainProgress(out, 10).handle({ type: 'finished', iteration: 4, reason: 'failed', runDir: '/runs/r1' });
  assert.equal(out.text, 'failed after iteration 4; run folder /runs/r1\n');
});

test('the rate averages the last 10 iterations, so the time left follows a change of pace', () => {
  let now = 0;
  const rate = new IterationRate(() => now);
  assert.equal(rate.secondsLeft(5), undefined);
  rate.start();
  for (let i = 0; i < 10; i++) {
    now += 1000;
    rate.tick();
  }
  assert.equal(rate.secondsPerIteration, 1);
  for (let i = 0; i < 10; i++) {
    now += 3000;
    rate.tick();
  }
  assert.equal(rate.secondsPerIteration, 3);
  assert.equal(rate.secondsLeft(20), 60);
  assert.deepEqual([42, 587, 7500].map(formatDuration), ['42s', '9m47s', '2h05m']);
});
