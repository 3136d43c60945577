// SIGKILL trials of `grpo train`: a demo-like run that checkpoints every iteration is killed at
// a chosen moment, its run folder is checked as the kill left it, and `--resume` takes it to
// the end. The trainer runs on a pseudo-terminal (util-linux `script`) so that its status line
// tells which phase it is in: reward reload, rollout, rewards and update, checkpoint writing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readCheckpoint } from '../../src/trainer/checkpoint';
import { listCheckpoints } from '../../src/trainer/checkpoint-files';
import { readSafetensors } from '../../src/model/safetensors';
import { iterName } from '../../src/trainer/run-dir';
import { writeDemoConfig } from './demo-run';

const ROOT = resolve(__dirname, '..', '..');
const GRPO = join(ROOT, 'bin', 'grpo.js');
const DEMO = join(ROOT, 'examples', 'demo');

export const PHASES = ['startup', 'reward reload', 'rollout', 'rewards and update', 'checkpoint', 'after checkpoint'] as const;
export type Phase = (typeof PHASES)[number];
/** What a trial aims at: the start of a phase of one iteration plus a delay, or a delay from spawn. */
export type KillTarget = { phase: 'rollout' | 'rewards and update' | 'checkpoint'; iteration: number; fraction: number } | { afterMs: number };

export const hasPty = (): boolean => spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** The trial config in `work`: the demo run's (2 prompts x 4 completions of 5 tokens, a reference model), a checkpoint every iteration. */
export function writeKillConfig(work: string, numIterations: number): string {
  return writeDemoConfig(work, {
    num_iterations: numIterations,
    checkpoint_every: 1,
    keep_checkpoints: 2, // every save also prunes one: a kill can land in a prune too
    backend: process.env.GRPO_TEST_BACKEND ?? 'wasm',
  });
}

export interface Killed {
  killed: boolean; // false: the run ended before the moment came
  phase: Phase; // the last phase the trainer reported, or checkpoint when a save's temporary folder was on disk
  iteration: number; // the iteration in progress (0 before the first)
  code: number | null;
  output: string;
}

/** Trainer phases as the status line and the progress lines report them. */
class PhaseTracker {
  phase: Phase = 'startup';
  iteration = 0;
  readonly startedAt = new Map<string, number>(); // `${phase}@${iteration}` -> ms
  private pending = '';
  output = '';

  feed(chunk: string, onChange: () => void): void {
    this.output += chunk;
    this.pending += chunk;
    const parts = this.pending.split(/[\r\n]/);
    this.pending = parts.pop() ?? '';
    // The status line is rewritten in place with no line end until the next write: read the
    // unfinished tail too (a status is written whole).
    for (const part of [...parts, this.pending]) this.read(part.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim(), onChange);
  }

  private read(text: string, onChange: () => void): void {
    let m: RegExpExecArray | null;
    let next: Phase | undefined;
    let iteration = this.iteration;
    if ((m = /^iteration (\d+)\/\d+ (starting|generating|scoring)/.exec(text))) {
      iteration = Number(m[1]);
      next = m[2] === 'starting' ? 'reward reload' : m[2] === 'generating' ? 'rollout' : 'rewards and update';
    } else if ((m = /^(\d+)\/\d+\s+-?[\d.]+ ±/.exec(text))) {
      iteration = Number(m[1]); // the table row: the iteration's records are written, its checkpoint is next
      next = 'checkpoint';
    } else if (/^checkpoint \//.test(text)) {
      next = 'after checkpoint';
    }
    if (next === undefined || (next === this.phase && iteration === this.iteration)) return;
    this.phase = next;
    this.iteration = iteration;
    this.startedAt.set(`${next}@${iteration}`, performance.now());
    onChange();
  }

  /** How long `phase` lasted in `iteration` (to the next phase's start), if both were seen. */
  duration(phase: Phase, iteration: number): number | undefined {
    const start = this.startedAt.get(`${phase}@${iteration}`);
    const following = PHASES[PHASES.indexOf(phase) + 1] ?? 'reward reload';
    const nextIteration = following === 'reward reload' ? iteration + 1 : iteration;
    const end = this.startedAt.get(`${phase === 'rewards and update' ? 'checkpoint' : following}@${nextIteration}`);
    return start !== undefined && end !== undefined ? end - start : undefined;
  }
}

/**
 * Runs `grpo train ARGS` on a pseudo-terminal and SIGKILLs it at `target` (or lets it finish
 * when there is none). The phase is read after the process is gone, so the folder is as the
 * kill left it.
 */
export function trainUntilKilled(args: string[], target: KillTarget | undefined, cwd: string): Promise<Killed> {
  const command = `stty cols 200 2>/dev/null; echo "pid $$"; exec ${JSON.stringify(process.execPath)} ${[GRPO, 'train', ...args].map((a) => JSON.stringify(a)).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GRPO_BACKEND: process.env.GRPO_TEST_BACKEND ?? 'wasm' } });
  const tracker = new PhaseTracker();
  let pid: number | undefined;
  let killed = false;
  let killPhase: Phase = 'startup';
  let killIteration = 0;
  let timer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (killed || pid === undefined) return;
    killed = true;
    killPhase = tracker.phase;
    killIteration = tracker.iteration;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      killed = false; // it had already ended
    }
  };
  const onChange = () => {
    if (!target || 'afterMs' in target || timer || killed) return;
    if (tracker.phase !== target.phase || tracker.iteration !== target.iteration) return;
    // A fraction of the time the same phase took one iteration earlier.
    const previous = tracker.duration(target.phase, target.iteration - 1) ?? 20;
    timer = setTimeout(kill, target.fraction * previous);
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    if (pid === undefined) {
      const m = /pid (\d+)/.exec(tracker.output + chunk);
      if (m) {
        pid = Number(m[1]);
        if (target && 'afterMs' in target) timer = setTimeout(kill, target.afterMs);
      }
    }
    tracker.feed(chunk, onChange);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      const runDir = /run (\S+)/.exec(tracker.output)?.[1];
      const saving = runDir !== undefined && existsSync(join(runDir, 'checkpoints')) && readdirSync(join(runDir, 'checkpoints')).some((n) => n.startsWith('.'));
      done({
        killed,
        phase: killed && saving ? 'checkpoint' : killPhase,
        iteration: killIteration,
        code,
        output: tracker.output + stderr,
      });
    });
  });
}

/**
 * Asserts that every checkpoint listed as complete loads: its trainer state names its own
 * iteration, and its weights and Adam moments hold every tensor of `names` at full size.
 * Returns the iterations listed, oldest first.
 */
export async function checkCheckpoints(runDir: string, names: Map<string, number[]>): Promise<number[]> {
  const listed = await listCheckpoints(join(runDir, 'checkpoints'));
  for (const c of listed) {
    const loaded = await readCheckpoint(c.path);
    assert.equal(loaded.state.iteration, c.iteration, `${c.path}: trainer state of iteration ${loaded.state.iteration}`);
    JSON.parse(readFileSync(join(c.path, 'config.json'), 'utf8'));
    const weights = await readSafetensors(join(c.path, 'model.safetensors'));
    for (const [name, shape] of names) {
      const size = shape.reduce((a, b) => a * b, 1);
      assert.equal(weights.get(name)?.data.length, size, `${c.path}: weight ${name}`);
      assert.equal(loaded.optimizer.moments.get(name)?.m.length, size, `${c.path}: Adam moment ${name}`);
    }
  }
  return listed.map((c) => c.iteration);
}

/** The model's tensor names and shapes, as a checkpoint must hold them. */
export async function modelTensors(): Promise<Map<string, number[]>> {
  const weights = await readSafetensors(join(DEMO, 'model', 'model.safetensors'));
  return new Map([...weights].map(([name, t]) => [name, t.shape]));
}

export interface RunRecords {
  metricsIterations: number[]; // of every parsable line, in file order
  tornLastLine: boolean;
  rollouts: Map<number, string>; // iteration -> sha256 of rollouts/iter-N.jsonl
}

/** metrics.jsonl and the rollouts files as they are now. */
export function runRecords(runDir: string): RunRecords {
  const file = join(runDir, 'metrics.jsonl');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n').filter((l) => l !== '');
  const metricsIterations: number[] = [];
  let tornLastLine = false;
  lines.forEach((l, i) => {
    try {
      metricsIterations.push((JSON.parse(l) as { iteration: number }).iteration);
    } catch {
      assert.equal(i, lines.length - 1, `${file}: line ${i + 1} of ${lines.length} is not JSON`);
      tornLastLine = true;
    }
  });
  const rollouts = new Map<number, string>();
  const dir = join(runDir, 'rollouts');
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const m = /^iter-(\d+)\.jsonl$/.exec(name);
    if (m) rollouts.set(Number(m[1]), createHash('sha256').update(readFileSync(join(dir, name))).digest('hex'));
  }
  return { metricsIterations, tornLastLine, rollouts };
}

/** Asserts a finished run: metrics 1..n once each, every rollouts file 1..n parses, no leftovers of a killed save. */
export function checkFinishedRun(runDir: string, n: number): void {
  const records = runRecords(runDir);
  const expected = Array.from({ length: n }, (_, i) => i + 1);
  assert.equal(records.tornLastLine, false, 'metrics.jsonl ends in a torn line');
  assert.deepEqual(records.metricsIterations, expected, 'metrics.jsonl iterations');
  assert.deepEqual([...records.rollouts.keys()].sort((a, b) => a - b), expected, 'rollouts files');
  for (const i of expected) {
    const lines = readFileSync(join(runDir, 'rollouts', `${iterName(i)}.jsonl`), 'utf8').trim().split('\n');
    assert.equal(lines.length, 8, `rollouts of iteration ${i}`);
    for (const l of lines) JSON.parse(l);
  }
  const leftovers = readdirSync(join(runDir, 'checkpoints')).filter((f) => f.startsWith('.'));
  assert.deepEqual(leftovers, [], 'temporary folders of a killed save are cleaned up on resume');
}

export interface TrialResult {
  target: string;
  kills: { phase: Phase; iteration: number; resumedFrom?: number; metricsPast: number; torn: boolean }[];
  ranToEnd: boolean; // a kill moment came after the run had finished
}

/**
 * One trial: a fresh run in `work`, killed at `targets[0]`; each resume is killed at the next
 * target, the last resume runs to the end. Checks the folder after every kill and at the end,
 * and that the final weights equal `expectedWeights` (an uninterrupted run's), when given.
 */
export async function killTrial(
  work: string,
  configFile: string,
  n: number,
  targets: KillTarget[],
  names: Map<string, number[]>,
  expectedWeights?: Buffer,
): Promise<TrialResult> {
  const result: TrialResult = { target: targets.map(describeTarget).join(' then '), kills: [], ranToEnd: false };
  let args = ['--config', configFile];
  let runDir: string | undefined;
  let resumed: { from: number; records: RunRecords } | undefined;
  for (let k = 0; ; k++) {
    const outcome = await trainUntilKilled(args, targets[k], work);
    // Killed before it printed the run folder, the trainer may have made one all the same.
    runDir ??= /run (\S+)/.exec(outcome.output)?.[1] ?? runFolders(work)[0];
    if (runDir === undefined) {
      assert.ok(outcome.killed, `no run folder in the output:\n${outcome.output}`);
      result.kills.push({ phase: outcome.phase, iteration: 0, metricsPast: 0, torn: false });
      return result;
    }
    if (resumed) {
      // A resume killed while it starts may not have said where it resumed from.
      const from = /resuming after iteration (\d+)/.exec(outcome.output)?.[1];
      if (from !== undefined || !outcome.killed) assert.equal(Number(from), resumed.from, `resumed from the newest complete checkpoint:\n${outcome.output}`);
      // What the resume keeps must be what was there: the rollouts up to its checkpoint, unchanged.
      const now = runRecords(runDir);
      for (const [i, hash] of resumed.records.rollouts) {
        if (i <= resumed.from) assert.equal(now.rollouts.get(i), hash, `rollouts of iteration ${i} changed on resume`);
      }
    }
    if (!outcome.killed) {
      assert.equal(outcome.code, 0, `grpo train ${args.join(' ')} failed:\n${outcome.output}`);
      result.ranToEnd = k < targets.length;
      break;
    }
    const records = runRecords(runDir);
    const listed = await checkCheckpoints(runDir, names);
    const newest = listed[listed.length - 1];
    const past = records.metricsIterations.filter((i) => i > (newest ?? 0)).length;
    result.kills.push({ phase: outcome.phase, iteration: outcome.iteration, resumedFrom: newest, metricsPast: past, torn: records.tornLastLine });
    args = ['--resume', runDir];
    if (newest === undefined) {
      // Killed before the first checkpoint: nothing to resume, and the trainer says so.
      const r = spawnSync(process.execPath, [GRPO, 'train', ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, GRPO_BACKEND: process.env.GRPO_TEST_BACKEND ?? 'wasm' } });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /no complete checkpoint to resume from/);
      return result;
    }
    resumed = { from: newest, records };
  }
  checkFinishedRun(runDir, n);
  const listed = await checkCheckpoints(runDir, names);
  assert.equal(listed[listed.length - 1], n, 'the last checkpoint is the last iteration');
  if (expectedWeights) {
    const final = readFileSync(join(runDir, 'checkpoints', iterName(n), 'model.safetensors'));
    assert.ok(final.equals(expectedWeights), 'the resumed run ends with other weights than an uninterrupted one');
  }
  return result;
}

function runFolders(work: string): string[] {
  const runs = join(work, 'runs');
  return existsSync(runs) ? readdirSync(runs).map((f) => join(runs, f)) : [];
}

function describeTarget(t: KillTarget): string {
  return 'afterMs' in t ? `${t.afterMs.toFixed(0)} ms after start` : `${t.phase} of iteration ${t.iteration} (+${(t.fraction * 100).toFixed(0)}%)`;
}
