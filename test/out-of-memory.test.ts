// An engine that runs out of memory in spite of the plan ends with a message naming the
// phase, the sizes and the fix, not "RuntimeError: Aborted()".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isOutOfMemory } from '../src/engine/out-of-memory';
import { UserError } from '../src/errors';

test('a full wasm heap becomes a UserError naming the phase, the sizes, the fix and the resume', { timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'helpers', 'exhaust-wasm-heap.ts')], { encoding: 'utf8', timeout: 110_000 });
  assert.match(r.stdout, /^UserError: out of memory while scoring the rollout under the policy \(\d+ tensors of 400 MB held\): .+\. Lower memory_budget_mb\. The run folder is intact: its newest checkpoint resumes it with grpo train --resume RUN_DIR --memory_budget_mb N\n/, r.stdout + r.stderr);
});

test('only the engine\'s out-of-memory failures are translated', () => {
  const runtime = (message: string) => Object.assign(new Error(message), { name: 'RuntimeError' });
  class RuntimeError extends Error {}
  assert.ok(isOutOfMemory(new RuntimeError('memory access out of bounds')));
  assert.ok(isOutOfMemory(new RuntimeError('Aborted(). Build with -sASSERTIONS for more info.')));
  assert.ok(isOutOfMemory(new RangeError('Array buffer allocation failed')));
  assert.ok(!isOutOfMemory(runtime('unreachable')));
  assert.ok(!isOutOfMemory(new Error('reward file r.ts: x is not defined')));
  assert.ok(!isOutOfMemory(new UserError('out of memory while ...')));
});
