import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { reportEnd } from '../src/extension/run-end';
import { logLine } from '../src/extension/trainer-log';
import { initialStatus, nextStatus, statusText, type TrainingStatus } from '../src/extension/training-status';
import type { TrainerProcessEvent } from '../src/trainer-process/client';

function fold(events: TrainerProcessEvent[], total = 100): TrainingStatus {
  return events.reduce(nextStatus, initialStatus(total));
}

test('the status bar shows iteration i/N, the latest mean reward and a paused run', () => {
  assert.equal(statusText(initialStatus(100)), '$(pulse) GRPO starting');
  const running = fold([
    { type: 'run-started', runDir: '/w/.grpo/runs/r1', backend: 'wasm', model: 'm', parameters: 10 },
    { type: 'iteration-started', iteration: 12, learningRate: 1e-4 },
    { type: 'rewards-scored', iteration: 12, mean: 0.41234, std: 0.1, failed: [] },
  ]);
  assert.equal(running.runDir, '/w/.grpo/runs/r1');
  assert.equal(statusText(running), '$(pulse) GRPO 12/100 · reward 0.412');
  const paused = nextStatus(running, { type: 'paused', iteration: 12 });
  assert.equal(statusText(paused), '$(debug-pause) GRPO 12/100 paused · reward 0.412');
  assert.equal(statusText(nextStatus(paused, { type: 'resumed', iteration: 12 })), '$(pulse) GRPO 12/100 · reward 0.412');
  assert.equal(statusText({ ...running, meanReward: NaN }), '$(pulse) GRPO 12/100 · reward NaN');
  assert.equal(statusText({ ...running, stopping: true }), '$(loading~spin) GRPO 12/100 stopping · reward 0.412');
});

test('events that change nothing shown keep the same status object', () => {
  const s = initialStatus(5);
  assert.equal(nextStatus(s, { type: 'output', stream: 'stdout', line: 'x' }), s);
  assert.equal(nextStatus(s, { type: 'log', line: 'x' }), s);
});

test('a resumed run counts from the iteration it resumed after', () => {
  assert.equal(fold([{ type: 'run-started', runDir: '/r', backend: 'cpu', model: 'm', parameters: 1, resumedFrom: 40 }]).iteration, 40);
});

test('a crash is reported with the trainer\'s reason and its run log where the log exists', () => {
  const status = fold([{ type: 'run-started', runDir: '/w/run', backend: 'wasm', model: 'm', parameters: 1 }]);
  const exists = (f: string) => f === join('/w/run', 'log.txt');
  const fatal = reportEnd(
    { type: 'crashed', code: 1, signal: null, stderrTail: 'noise', fatal: { type: 'fatal', message: 'out of memory', userError: false } },
    status,
    exists,
  );
  assert.deepEqual(fatal, { severity: 'error', message: 'GRPO: the trainer crashed: out of memory', logFile: join('/w/run', 'log.txt') });
  const native = reportEnd({ type: 'crashed', code: null, signal: 'SIGSEGV', stderrTail: 'first\nSegmentation fault\n' }, initialStatus(3), exists);
  assert.deepEqual(native, { severity: 'error', message: 'GRPO: the trainer crashed: Segmentation fault', logFile: undefined });
  const silent = reportEnd({ type: 'crashed', code: 3, signal: null, stderrTail: '' }, initialStatus(3), () => false);
  assert.equal(silent.message, 'GRPO: the trainer crashed: exit code 3');
  const user = reportEnd({ type: 'crashed', code: 1, signal: null, stderrTail: '', fatal: { type: 'fatal', message: 'x.jsonl: no such file', userError: true, logFile: '/l/log.txt' } }, initialStatus(3), () => true);
  assert.deepEqual(user, { severity: 'error', message: 'GRPO: the trainer stopped: x.jsonl: no such file', logFile: '/l/log.txt' });
});

test('a clean end says whether the run completed, stopped or was ended by force', () => {
  const done = fold([{ type: 'finished', iteration: 100, reason: 'completed', runDir: '/w/run' }]);
  assert.equal(reportEnd({ type: 'exited', code: 0, signal: null, forced: false }, done, () => false).message, 'GRPO: training completed 100 iterations. Run folder: /w/run');
  const stopped = fold([{ type: 'finished', iteration: 7, reason: 'stopped', runDir: '/w/run' }]);
  assert.equal(reportEnd({ type: 'exited', code: 0, signal: null, forced: false }, stopped, () => false).message, 'GRPO: training stopped after iteration 7. Run folder: /w/run');
  const forced = reportEnd({ type: 'exited', code: null, signal: 'SIGTERM', forced: true }, initialStatus(3), () => false);
  assert.equal(forced.severity, 'info');
  assert.match(forced.message, /by force \(SIGTERM\)/);
});

test('the output channel gets the trainer\'s log lines, its output and its notices, not per-token progress', () => {
  assert.equal(logLine({ type: 'log', line: 'loaded model' }), 'loaded model');
  assert.equal(logLine({ type: 'output', stream: 'stderr', line: 'warn' }), '[stderr] warn');
  assert.equal(logLine({ type: 'command-rejected', command: 'step', reason: 'not paused' }), 'command step rejected: not paused');
  assert.equal(logLine({ type: 'generation-progress', iteration: 1, step: 3, maxNewTokens: 8 }), undefined);
  assert.match(String(logLine({ type: 'fatal', message: 'boom', stack: 'at x', userError: false })), /^fatal: boom\nat x$/);
});
