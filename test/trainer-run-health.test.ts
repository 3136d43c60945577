// The alarm for a run that learns nothing (src/trainer/run-health.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_SIGNAL_STREAK, RunHealth } from '../src/trainer/run-health';

const failedAll = new Float64Array([NaN, NaN, NaN, NaN]);
const scored = new Float64Array([1, 0, 0.5, 0.5]);

test(`${NO_SIGNAL_STREAK} iterations in a row with no reward at all raise one alarm, naming the span and reward-errors/`, () => {
  const health = new RunHealth();
  const alarms = [];
  for (let i = 1; i <= 12; i++) alarms.push(health.observe(i, failedAll, 2, 2));
  const raised = alarms.filter((a) => a !== undefined);
  assert.equal(raised.length, 1, 'one alarm per streak, not one per iteration');
  assert.equal(alarms.indexOf(raised[0]), NO_SIGNAL_STREAK - 1);
  assert.deepEqual({ ...raised[0], message: undefined }, { type: 'no-learning-signal', fromIteration: 1, iteration: 5, reason: 'rewards-failed', message: undefined });
  assert.match(raised[0]!.message, /^no learning signal in iterations 1-5: no reward function gave any completion a value .*reward-errors\//);
});

test('flat groups count as no signal too; one iteration with signal ends the streak', () => {
  const health = new RunHealth();
  for (let i = 1; i <= 4; i++) assert.equal(health.observe(i, scored, 2, 2), undefined);
  assert.equal(health.observe(5, scored, 1, 2), undefined, 'one group varied: a signal');
  for (let i = 6; i <= 9; i++) assert.equal(health.observe(i, i === 7 ? failedAll : scored, 2, 2), undefined);
  const alarm = health.observe(10, scored, 2, 2);
  assert.equal(alarm?.fromIteration, 6);
  assert.equal(alarm?.reason, 'zero-variance', 'a streak that was not all failures is about variance');
  assert.match(alarm!.message, /within every group all completions got the same reward/);
  assert.equal(health.observe(11, scored, 0, 2), undefined);
  for (let i = 12; i <= 15; i++) assert.equal(health.observe(i, scored, 2, 2), undefined);
  assert.equal(health.observe(16, scored, 2, 2)?.fromIteration, 12, 'a new streak raises a new alarm');
});
