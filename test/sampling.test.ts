// The sampling warpers against hand-computed distributions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/model/rng';
import { DEFAULT_SAMPLING, sampleToken, type SamplingOptions } from '../src/model/sampling';

// Probabilities 0.5, 0.25, 0.15, 0.1 (as logits), plus a token that is practically impossible.
const P = [0.5, 0.25, 0.15, 0.1];
const LOGITS = Float32Array.from([...P.map(Math.log), -100]);
const N = 20000;

function frequencies(opts: Partial<SamplingOptions>, logits = LOGITS, seen: number[] = []): number[] {
  const rng = new Rng(42);
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < N; i++) counts[sampleToken(logits, seen, { ...DEFAULT_SAMPLING, ...opts }, rng)]++;
  return counts.map((c) => c / N);
}

function assertClose(got: number[], want: number[], tol = 0.015): void {
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= tol, `token ${i}: ${got[i].toFixed(3)} vs ${w.toFixed(3)}`));
}

test('temperature 1 samples the softmax', () => assertClose(frequencies({}), [...P, 0]));

test('temperature 0 is argmax', () => assertClose(frequencies({ temperature: 0 }), [1, 0, 0, 0, 0], 0));

test('temperature 2 flattens: p ∝ sqrt(p)', () => {
  const s = P.map(Math.sqrt);
  const z = s.reduce((a, b) => a + b);
  assertClose(frequencies({ temperature: 2 }), [...s.map((x) => x / z), 0]);
});

test('top-k keeps the k most likely, renormalised', () => assertClose(frequencies({ topK: 2 }), [2 / 3, 1 / 3, 0, 0, 0]));

test('top-p keeps the smallest prefix reaching p', () => {
  // 0.5 + 0.25 = 0.75 < 0.8, so the third token is needed too.
  assertClose(frequencies({ topP: 0.8 }), [0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0, 0]);
  assertClose(frequencies({ topP: 0.3 }), [1, 0, 0, 0, 0], 0);
});

test('min-p drops tokens below min_p times the top probability', () => {
  // threshold 0.4 * 0.5 = 0.2: tokens 0 and 1 survive.
  assertClose(frequencies({ minP: 0.4 }), [2 / 3, 1 / 3, 0, 0, 0]);
});

test('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
  const logits = Float32Array.from([2, 1, -1]);
  // With penalty 2 on tokens 0 and 2: logits become 1, 1, -2.
  const e = [Math.exp(1), Math.exp(1), Math.exp(-2)];
  const z = e.reduce((a, b) => a + b);
  assertClose(frequencies({ repetitionPenalty: 2 }, logits, [0, 2, 2]), e.map((x) => x / z));
  assert.equal(sampleToken(logits, [0], { ...DEFAULT_SAMPLING, temperature: 0, repetitionPenalty: 4 }, new Rng(1)), 1);
});

test('the rng is reproducible and its state restores the stream', () => {
  const a = new Rng(7);
  a.next();
  const saved = a.state();
  const next = [a.next(), a.next(), a.next()];
  const b = new Rng(saved);
  assert.deepEqual([b.next(), b.next(), b.next()], next);
  assert.notDeepEqual([new Rng(8).next()], [new Rng(7).next()]);
});
