// `grpo train` killed with SIGKILL in each phase (rollout, rewards and update, checkpoint
// writing, a resume killed in turn): every listed checkpoint loads, --resume continues from the
// newest, metrics and rollouts come out whole, and the weights equal an uninterrupted run's.
// scripts/kill-trials.ts runs many more trials at random moments.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleSaves } from '../src/trainer/checkpoint';
import { STATE_FILE } from '../src/trainer/checkpoint-files';
import { iterName } from '../src/trainer/run-dir';
import { checkCheckpoints, checkFinishedRun, hasPty, killTrial, modelTensors, trainUntilKilled, writeKillConfig, type KillTarget } from './helpers/kill-trial';

const N = 6;
const work = mkdtempSync(join(tmpdir(), 'grpo-faults-kill-'));
const config = writeKillConfig(work, N);
const noPty = hasPty() ? false : 'util-linux `script` is missing: the trainer must run on a pseudo-terminal to report its phase';
let names: Map<string, number[]>;
let whole: string; // the uninterrupted run's folder
let expected: Buffer; // its final weights
let wholeMs: number; // how long it took, start to end: a blind kill aims inside it

before(async () => {
  assert.ok(existsSync(join(__dirname, '..', 'out', 'cli.js')), 'out/cli.js is missing: run npm run build first');
  names = await modelTensors();
  if (noPty) return;
  const started = performance.now();
  const r = await trainUntilKilled(['--config', config], undefined, work);
  wholeMs = performance.now() - started;
  assert.equal(r.code, 0, r.output);
  whole = join(work, 'whole');
  cpSync(/run (\S+)/.exec(r.output)![1], whole, { recursive: true });
  rmSync(join(work, 'runs'), { recursive: true });
  expected = readFileSync(join(whole, 'checkpoints', iterName(N), 'model.safetensors'));
});

test('a SIGKILL in rollout, update or checkpoint writing resumes from the newest complete checkpoint, exactly', { skip: noPty }, async (t) => {
  const targets: KillTarget[][] = [
    [{ phase: 'rollout', iteration: 3, fraction: 0.5 }],
    [{ phase: 'rewards and update', iteration: 3, fraction: 0.3 }],
    [{ phase: 'rewards and update', iteration: 5, fraction: 0.95 }],
    [{ phase: 'checkpoint', iteration: 2, fraction: 0.1 }],
    [{ phase: 'checkpoint', iteration: 4, fraction: 0.5 }],
    [{ phase: 'checkpoint', iteration: N, fraction: 0.8 }],
    // A blind moment at 60% of the uninterrupted run: a fixed delay may fall after the end on
    // a fast machine and in start-up on a loaded one.
    [{ afterMs: Math.round(0.6 * wholeMs) }],
    [{ phase: 'checkpoint', iteration: 2, fraction: 0.5 }, { phase: 'rollout', iteration: 4, fraction: 0.5 }],
    [{ phase: 'rollout', iteration: 1, fraction: 0.5 }], // before the first checkpoint: the resume is refused
  ];
  const phases: string[] = [];
  for (const [i, trial] of targets.entries()) {
    const r = await killTrial(work, config, N, trial, names, expected);
    rmSync(join(work, 'runs'), { recursive: true, force: true });
    assert.ok(r.kills.length >= 1 && !r.ranToEnd, `trial ${i + 1} (${r.target}) was never killed`);
    phases.push(...r.kills.map((k) => k.phase));
    t.diagnostic(`${r.target}: ${r.kills.map((k) => `killed in ${k.phase} of iteration ${k.iteration}, resumed from ${k.resumedFrom ?? 'nothing'}`).join('; ')}`);
  }
  // Where the kills landed depends on timing; they must at least span a save and an iteration.
  assert.ok(phases.includes('checkpoint'), `no kill landed in a checkpoint save: ${phases}`);
  assert.ok(phases.some((p) => p === 'rollout' || p === 'rewards and update'), `no kill landed in an iteration: ${phases}`);
});

test('a resume drops metrics past its checkpoint and a torn last line, and what a killed save left', { skip: noPty }, async () => {
  // The folder as a kill in iteration 6's save leaves it: metrics of 6 written, checkpoint 6
  // half-written, a rollouts file mid-write, a metrics line cut off.
  const run = join(work, 'torn');
  cpSync(whole, run, { recursive: true });
  const checkpoints = join(run, 'checkpoints');
  cpSync(join(checkpoints, iterName(N)), join(checkpoints, `.partial-${iterName(N)}-4242`), { recursive: true });
  rmSync(join(checkpoints, iterName(N)), { recursive: true });
  rmSync(join(checkpoints, `.partial-${iterName(N)}-4242`, STATE_FILE));
  writeFileSync(join(run, 'rollouts', `.tmp-4242-${iterName(N + 1)}.jsonl`), '{"prompt": "half');
  appendFileSync(join(run, 'metrics.jsonl'), '{"iteration": 7, "rew');
  const r = await trainUntilKilled(['--resume', run], undefined, work);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, new RegExp(`resuming after iteration ${N - 1}\\b`));
  checkFinishedRun(run, N);
  assert.deepEqual(readdirSync(join(run, 'rollouts')).filter((f) => f.startsWith('.')), []);
  assert.deepEqual(await checkCheckpoints(run, names), [N - 1, N]);
  assert.ok(readFileSync(join(checkpoints, iterName(N), 'model.safetensors')).equals(expected));
});

test('stale saves: a replaced checkpoint whose replacement never landed comes back, temporary folders go', async () => {
  const dir = join(work, 'stale', 'checkpoints');
  const made = (name: string, complete: boolean) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'model.safetensors'), 'x');
    if (complete) writeFileSync(join(dir, name, STATE_FILE), '{}');
  };
  made(iterName(2), true);
  made(`.replaced-${iterName(3)}-11`, true); // killed between the two renames of a same-iteration save
  made(`.replaced-${iterName(2)}-11`, true); // its replacement landed: only the old copy is left to remove
  made(`.partial-${iterName(4)}-11`, false);
  made(`.pruned-${iterName(1)}-11`, true); // killed while removing a pruned checkpoint
  await removeStaleSaves(dir);
  assert.deepEqual(readdirSync(dir).sort(), [iterName(2), iterName(3)]);
  assert.ok(existsSync(join(dir, iterName(3), STATE_FILE)));
});
