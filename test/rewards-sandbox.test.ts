// What a reward may do (src/rewards/permissions.ts, README.md there): each refusal tried from
// real reward code in a real reward process, and each allowed action shown to work, so that a
// refusal that only looks like one (a crash, a missing file) cannot pass.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RewardRunner, type ScoreInput } from '../src/rewards/runner';
import { WORKER_RESIDENT_MB } from '../src/rewards/worker-slot';

const sample = (completion: string, row: Record<string, unknown> = {}): ScoreInput => ({ prompt: 'p', completion, completionIds: [1], row });

/** Runs each `name` of `file` on one sample and gives its value and first error. */
async function outcomes(runner: RewardRunner, s: ScoreInput) {
  const scores = await runner.score([s], 0);
  return Object.fromEntries(scores.functions.map((f) => [f.name, { value: f.values[0], error: f.errors[0]?.message ?? '' }]));
}

describe('reward permissions', () => {
  let root: string;
  let outside: string;
  let runs: string;
  let runner: RewardRunner;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'grpo-sandbox-ws-'));
    outside = mkdtempSync(join(tmpdir(), 'grpo-sandbox-outside-'));
    runs = mkdtempSync(join(tmpdir(), 'grpo-sandbox-runs-'));
    writeFileSync(
      join(root, 'hostile.reward.ts'),
      `import { writeFileSync, readFileSync, symlinkSync } from 'node:fs';
       import { writeFile } from 'node:fs/promises';
       import { execFileSync, spawn } from 'node:child_process';
       import { Worker } from 'node:worker_threads';
       import type { RewardSample } from 'grpo-studio/reward';
       type Row = { path: string };
       export function writeInside(s: RewardSample<Row>) { writeFileSync(s.row.path, 'ok'); return 1; }
       export async function writeAsync(s: RewardSample<Row>) { await writeFile(s.row.path, 'ok'); return 1; }
       export function readAnywhere(s: RewardSample<Row>) { return readFileSync('/etc/hostname', 'utf8').length > 0 ? 1 : 0; }
       export function link(s: RewardSample<Row>) { symlinkSync('/etc', s.row.path + '.link'); return 1; }
       export function exec() { return execFileSync(process.execPath, ['-e', 'process.stdout.write("7")']).toString() === '7' ? 1 : 0; }
       export function spawned() { spawn(process.execPath, ['-e', '0']); return 1; }
       export function thread() { new Worker('0', { eval: true }); return 1; }
       export function signalParent() { process.kill(process.ppid, 'SIGTERM'); return 1; }
       export function signalSelf() { process.kill(process.pid, 0); return 1; }`,
    );
    runner = await RewardRunner.start([{ file: 'hostile.reward.ts' }], { workspaceRoot: root, writable: [runs], timeoutMs: 10_000, workers: 1 });
  });
  after(async () => {
    await runner.close();
    for (const d of [root, outside, runs]) rmSync(d, { recursive: true, force: true });
  });

  test('writes inside the workspace and the run folder work; anywhere else they are refused', async () => {
    for (const dir of [root, runs]) {
      mkdirSync(join(dir, 'sub'), { recursive: true });
      const path = join(dir, 'sub', 'out.txt');
      const o = await outcomes(runner, sample('x', { path }));
      assert.equal(o.writeInside.value, 1, o.writeInside.error);
      assert.equal(o.writeAsync.value, 1, o.writeAsync.error);
      assert.equal(readFileSync(path, 'utf8'), 'ok');
    }
    const path = join(outside, 'stolen.txt');
    const o = await outcomes(runner, sample('x', { path }));
    for (const fn of ['writeInside', 'writeAsync']) {
      assert.ok(Number.isNaN(o[fn].value), fn);
      assert.match(o[fn].error, /ERR_ACCESS_DENIED|Access to this API has been restricted/, fn);
    }
    assert.equal(existsSync(path), false);
    assert.equal(o.readAnywhere.value, 1, 'reading is allowed');
  });

  test('no symbolic link, not even inside the workspace (it could point anywhere)', async () => {
    const path = join(root, 'escape');
    const o = await outcomes(runner, sample('x', { path }));
    assert.ok(Number.isNaN(o.link.value));
    assert.match(o.link.error, /ERR_ACCESS_DENIED|restricted|requires full fs.read and fs.write/);
    assert.equal(existsSync(path + '.link'), false);
  });

  test('no child process, no worker thread, no signal to another process', async () => {
    const o = await outcomes(runner, sample('x', { path: join(root, 'a') }));
    for (const fn of ['exec', 'spawned', 'thread', 'signalParent']) {
      assert.ok(Number.isNaN(o[fn].value), `${fn} must be refused`);
      assert.match(o[fn].error, /ERR_ACCESS_DENIED|restricted|may not signal/, fn);
    }
    assert.equal(o.signalSelf.value, 1, 'a reward may still signal its own process');
  });

  test('with reward_child_processes, child processes run', async () => {
    const allowed = await RewardRunner.start([{ file: 'hostile.reward.ts' }], { workspaceRoot: root, timeoutMs: 10_000, workers: 1, childProcesses: true });
    try {
      const o = await outcomes(allowed, sample('x', { path: join(root, 'b') }));
      assert.equal(o.exec.value, 1, o.exec.error);
      assert.ok(Number.isNaN(o.signalParent.value), 'signals to other processes stay refused');
    } finally {
      await allowed.close();
    }
  });
});

describe('one reward file cannot change what another sees', () => {
  let root: string;
  let runner: RewardRunner;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'grpo-sandbox-globals-'));
    // Named so that it loads first and scores first.
    writeFileSync(
      join(root, 'a-vandal.reward.ts'),
      `(globalThis as any).planted = 'from a-vandal';
       Array.prototype.includes = () => true;
       Object.prototype.toString = () => 'vandalised';
       JSON.stringify = () => '"vandalised"';
       Math.random = () => 0.5;
       export function vandal() { return [1].includes(2) ? 1 : 0; }`,
    );
    writeFileSync(
      join(root, 'b-victim.reward.ts'),
      `export function victim() {
         const clean = (globalThis as any).planted === undefined && ![1].includes(2)
           && Object.prototype.toString.call({}) === '[object Object]' && JSON.stringify({ a: 1 }) === '{"a":1}'
           && Math.random() !== 0.5;
         return clean ? 1 : 0;
       }`,
    );
    runner = await RewardRunner.start([{ file: 'a-vandal.reward.ts' }, { file: 'b-victim.reward.ts' }], { workspaceRoot: root, workers: 1 });
  });
  after(async () => {
    await runner.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('globals and prototypes changed by one file are unchanged in the other, and in the trainer', async () => {
    const o = await outcomes(runner, sample('x'));
    assert.equal(o.vandal.value, 1, 'the change took effect where it was made');
    assert.equal(o.victim.value, 1, o.victim.error);
    assert.equal([1].includes(2), false);
    assert.equal(JSON.stringify({ a: 1 }), '{"a":1}');
  });
});

describe('memory', () => {
  let root: string;
  let runner: RewardRunner;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'grpo-sandbox-memory-'));
    writeFileSync(
      join(root, 'hungry.reward.ts'),
      `const kept: unknown[] = [];
       export function heap(s: { completion: string }) {
         if (s.completion === 'grow') for (;;) kept.push({ a: Math.random(), b: [Math.random()] });
         return 1;
       }
       export function buffers(s: { completion: string }) {
         // Buffers live outside V8's heap, so only the resident-memory bound stops this.
         if (s.completion === 'grow') for (;;) kept.push(Buffer.alloc(64 * 1024 * 1024, 1));
         return 2;
       }`,
    );
    runner = await RewardRunner.start([{ file: 'hungry.reward.ts' }], { workspaceRoot: root, timeoutMs: 60_000, workers: 1 });
  });
  after(async () => {
    await runner.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('a reward filling its heap or allocating buffers without bound ends only its own process; the next call works', async () => {
    const scores = await runner.score([sample('grow'), sample('ok')], 0);
    const fn = (name: string) => scores.functions.find((f) => f.name === name)!;
    assert.ok(Number.isNaN(fn('heap').values[0]));
    assert.match(fn('heap').errors[0].message, /ran out of memory/);
    assert.equal(fn('heap').values[1], 1, 'a fresh process scored the next sample');
    assert.ok(Number.isNaN(fn('buffers').values[0]));
    if (process.platform === 'linux') assert.match(fn('buffers').errors[0].message, new RegExp(`over the ${WORKER_RESIDENT_MB} MB`));
    assert.equal(fn('buffers').values[1], 2);
    assert.ok(process.memoryUsage().rss < 1024 * 1048576, 'the trainer itself did not grow');
  });
});
