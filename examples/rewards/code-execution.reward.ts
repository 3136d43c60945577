// Code execution: the fraction of the row's `tests` that the completion's JavaScript passes.
// The code is the last ```js (or ```javascript) block of the completion; each test is a JS
// expression that must evaluate to exactly true, e.g. "add(2, 3) === 5". The code runs in a
// fresh V8 context with no require, process or timers, within one time budget for the code
// and all its tests (see lib/sandbox.ts); the reward worker's own time limit is the backstop.
// No block scores 0; a row without tests does not apply (null).
import type { RewardSample } from 'grpo-studio/reward';
import { countPassing } from './lib/sandbox';

const BUDGET_MS = 1000; // per completion; keep it well under the runner's per-call limit

export function codeTests(sample: RewardSample<{ tests: string[] }>): number | null {
  const tests = sample.row.tests;
  if (!Array.isArray(tests) || tests.length === 0) return null;
  const blocks = [...sample.completion.matchAll(/```(?:js|javascript)[ \t]*\n([\s\S]*?)```/g)];
  if (blocks.length === 0) return 0;
  return countPassing(blocks[blocks.length - 1][1], tests, BUDGET_MS) / tests.length;
}
