// Hung and crashing reward calls: terminated within the time limit, NaN for the affected
// samples, and the next call runs on a fresh worker. close() stops every worker.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RewardRunner, type ScoreInput } from '../src/rewards/runner';

const LIMIT_MS = 400;
const sample = (completion: string): ScoreInput => ({ prompt: 'p', completion, completionIds: [1], row: {} });

describe('calls that overrun or kill their worker', () => {
  let root: string;
  let runner: RewardRunner;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'grpo-rewards-test-'));
    writeFileSync(
      join(root, 'hang.reward.ts'),
      `import { batched, type RewardSample } from 'grpo-studio/reward';
       export function spins(s: RewardSample): number {
         if (s.completion === 'spin') while (true) {}
         return 1;
       }
       export function waits(s: RewardSample): Promise<number> | number {
         return s.completion === 'wait' ? new Promise<number>(() => {}) : 2;
       }
       export function exits(s: RewardSample): number {
         if (s.completion === 'exit') process.exit(3);
         return 3;
       }
       export const batchSpins = batched((samples) => {
         if (samples.some((s) => s.completion === 'spin')) while (true) {}
         return samples.map(() => 4);
       });`,
    );
    runner = await RewardRunner.start([{ file: 'hang.reward.ts' }], { workspaceRoot: root, timeoutMs: LIMIT_MS, workers: 1 });
  });
  after(async () => {
    await runner.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('a sync infinite loop and a promise that never settles are cut off; the other samples still score', async () => {
    const t0 = Date.now();
    const scores = await runner.score([sample('ok'), sample('spin'), sample('wait'), sample('ok')], 0);
    const elapsed = Date.now() - t0;
    const fn = (name: string) => scores.functions.find((f) => f.name === name);
    assert.deepEqual([...(fn('spins')?.values ?? [])], [1, NaN, 1, 1]);
    assert.deepEqual([...(fn('waits')?.values ?? [])], [2, 2, NaN, 2]);
    assert.deepEqual([...(fn('batchSpins')?.values ?? [])], [NaN, NaN, NaN, NaN]);
    assert.equal(fn('spins')?.errors[0].kind, 'timeout');
    assert.deepEqual(fn('spins')?.errors[0].samples, [1]);
    assert.match(fn('waits')?.errors[0].message ?? '', new RegExp(`did not finish within ${LIMIT_MS} ms`));
    assert.deepEqual(fn('waits')?.errors[0].samples, [2]);
    // Three hangs, each ended at the limit, plus worker restarts: well under the 10 s default.
    assert.ok(elapsed < 3 * LIMIT_MS + 2000, `took ${elapsed} ms`);
  });

  test('process.exit() in a reward ends only its worker: NaN with an error, the next call works', async () => {
    const scores = await runner.score([sample('exit'), sample('ok')], 1);
    const exits = scores.functions.find((f) => f.name === 'exits');
    assert.deepEqual([...(exits?.values ?? [])], [NaN, 3]);
    assert.equal(exits?.errors[0].kind, 'crashed');
    assert.match(exits?.errors[0].message ?? '', /code 3/);
  });

  test('after repeated timeouts a function is skipped for the rest of the iteration', async () => {
    const t0 = Date.now();
    const scores = await runner.score(Array.from({ length: 6 }, () => sample('spin')), 2);
    const spins = scores.functions.find((f) => f.name === 'spins');
    assert.deepEqual(spins?.errors.map((e) => [e.kind, e.samples.length]), [['timeout', 3], ['skipped', 3]]);
    assert.ok(Date.now() - t0 < 4 * LIMIT_MS + 2000, 'did not wait out every sample');
    const next = await runner.score([sample('ok')], 3);
    assert.deepEqual(next.functions.map((f) => f.values[0]), [4, 3, 1, 2], 'a new iteration calls it again');
  });
});

test('close() terminates every worker', async () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-rewards-test-'));
  const beat = join(root, 'heartbeat.txt');
  // The module keeps a timer running in its worker, writing a heartbeat while the worker lives.
  writeFileSync(
    join(root, 'beat.reward.ts'),
    `import { appendFileSync } from 'node:fs';
     setInterval(() => appendFileSync(${JSON.stringify(beat)}, '.'), 10);
     export const one = () => 1;`,
  );
  const runner = await RewardRunner.start([{ file: 'beat.reward.ts' }], { workspaceRoot: root, workers: 2 });
  await runner.score([sample('a'), sample('b'), sample('c')], 0);
  await runner.close();
  const stopped = readFileSync(beat, 'utf8').length;
  await sleep(100);
  assert.equal(readFileSync(beat, 'utf8').length, stopped, 'no heartbeat after close()');
  assert.ok(stopped > 0 && existsSync(beat));
  rmSync(root, { recursive: true, force: true });
});
