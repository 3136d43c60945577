// Runs untrusted JavaScript from a completion against test expressions, with limits.
import { createContext, runInContext } from 'node:vm';

/**
 * Runs `code`, then each test in the same context; returns how many evaluated to exactly true.
 * All runs together may take `budgetMs`: code that throws counts as failing, and once the
 * budget is spent (a loop, say) the remaining tests fail without running.
 */
export function countPassing(code: string, tests: readonly string[], budgetMs: number): number {
  // A null-prototype global: a plain {} would lend the sandbox this realm's Object, whose
  // constructor's constructor is a Function that can reach `process`.
  const context = createContext(Object.create(null), {
    codeGeneration: { strings: false, wasm: false }, // no eval, new Function or WebAssembly
    microtaskMode: 'afterEvaluate', // promise callbacks run inside the time limit too
  });
  const deadline = Date.now() + budgetMs;
  const run = (source: string): unknown => {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('time budget spent');
    return runInContext(source, context, { timeout: Math.ceil(left) });
  };
  try {
    run(code);
  } catch {
    return 0;
  }
  let passed = 0;
  for (const test of tests) {
    try {
      if (run(test) === true) passed++;
    } catch {
      // a failing test
    }
  }
  return passed;
}
