// Runs the user's reward files for the trainer: compiled with esbuild, executed in child
// processes (one per file and lane) under Node's permission model, a per-call time limit and a
// memory bound, hot-reloaded only when the trainer asks (at an iteration boundary). See README.md in this folder for the contract a reward file follows.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RewardSample } from '../../types/reward';
import { assert, UserError } from '../errors';
import { compileRewardFile, formatProblem, hashInputs, RewardFileError, type CompileProblem, type RewardBundle } from './compile';
import type { BundleRef, ExportedReward } from './protocol';
import type { RewardScores } from './scores';
import { duplicateName, selectRewards } from './selection';
import type { RewardPermissions } from './permissions';
import { IterationTally } from './tally';
import { DEFAULT_REWARD_TIMEOUT_MS } from './timeout';
import { WorkerSlot, type LoadOutcome } from './worker-slot';
import { rewardWorkerScript } from './worker-script';

export interface RewardSpec {
  /** The reward file, relative to the workspace root (or absolute). */
  file: string;
  /** Which of its exported functions are rewards; default: all of them. */
  functions?: string[];
  /** Weight of each of its functions, those a reload adds included; default 1. */
  weight?: number;
  /** Weight per function name, over `weight`. */
  weights?: Record<string, number>;
}

export interface RunnerOptions {
  workspaceRoot: string;
  /**
   * Where reward code may write besides the workspace (the run folder); see permissions.ts.
   * Default: nowhere else.
   */
  writable?: string[];
  /** Whether reward code may start child processes; default false (the config's reward_child_processes). */
  childProcesses?: boolean;
  /** Time limit of one call (one sample, or one batch for a batched reward); default DEFAULT_REWARD_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Lanes scoring in parallel (each a process per reward file); each runs one call at a time. */
  workers?: number;
}

/** One completion to score: what the reward functions receive as their sample. */
export type ScoreInput = RewardSample;

export interface ReloadReport {
  /**
   * Files now scoring with `version`. `previous` equals `version` when a file whose problem
   * was reported is back at the version in use: the problem is gone though nothing reloaded.
   */
  reloaded: { file: string; version: string; previous: string }[];
  /** Files whose new version does not compile or load; their last good version stays in use. */
  failed: ReloadProblem[];
}

/** A problem of a reload: `file` is where it is (the reward file or a file it imports). */
export interface ReloadProblem extends CompileProblem {
  /** The reward file whose new version was refused. */
  rewardFile: string;
}

export interface RewardInfo extends ExportedReward {
  file: string;
  version: string;
  weight: number;
}

interface RewardFile {
  spec: RewardSpec;
  abs: string;
  /** Workspace-relative, forward slashes. */
  file: string;
  /** The last good version, in use. */
  bundle: RewardBundle;
  rewards: ExportedReward[];
  /** A compiled version that failed to load, so it is not retried until the files change again. */
  rejectedVersion?: string;
  /** The last compile problem reported, so a file that stays broken is reported once. */
  reportedProblem?: string;
}

export class RewardRunner {
  private slots: WorkerSlot[];
  private readonly weights = new Map<string, number>();
  private busy = false;
  private closed = false;
  private nextCallId = 0;

  private constructor(
    private readonly root: string,
    private readonly tmpDir: string,
    private readonly script: string,
    private readonly files: RewardFile[],
    probe: WorkerSlot,
    private readonly timeoutMs: number,
    private readonly workers: number,
    private readonly permissions: RewardPermissions,
  ) {
    this.slots = this.lanes(probe);
  }

  /** Compiles and loads every reward file. Any problem is a UserError: there is no last good version yet. */
  static async start(specs: readonly RewardSpec[], opts: RunnerOptions): Promise<RewardRunner> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REWARD_TIMEOUT_MS;
    const workers = opts.workers ?? Math.min(2, availableParallelism());
    if (!(timeoutMs > 0)) throw new UserError(`reward timeout must be a positive number of milliseconds, got ${timeoutMs}`);
    if (!Number.isInteger(workers) || workers < 1) throw new UserError(`reward workers must be a whole number >= 1, got ${workers}`);
    if (specs.length === 0) throw new UserError('no reward files given: add at least one reward file to the config');
    const root = resolve(opts.workspaceRoot);
    const tmpDir = mkdtempSync(join(tmpdir(), 'grpo-rewards-'));
    const probe: WorkerSlot[] = [];
    try {
      const files: RewardFile[] = [];
      for (const spec of specs) {
        if (spec.weight !== undefined && !Number.isFinite(spec.weight)) {
          throw new UserError(`reward file ${spec.file}: weight must be a finite number, got ${spec.weight}; fix its weight in the config`);
        }
        const abs = resolve(root, spec.file);
        if (!existsSync(abs)) throw new UserError(`reward file ${spec.file} not found (looked at ${abs}); fix its path in the config`);
        const compiled = await compileRewardFile(root, abs, tmpDir);
        if (!compiled.ok) throw new RewardFileError(`${formatProblem(compiled.problem)}: the reward file does not compile; fix it and start again`, compiled.problem);
        files.push({ spec, abs, file: compiled.bundle.file, bundle: compiled.bundle, rewards: [] });
      }
      const script = await rewardWorkerScript(tmpDir);
      const permissions: RewardPermissions = { writable: [root, ...(opts.writable ?? [])], childProcesses: opts.childProcesses ?? false };
      const slot = new WorkerSlot(script, files.map((f, i) => writeBundle(tmpDir, i, f.bundle)), timeoutMs, permissions);
      probe.push(slot);
      const loaded = await slot.load();
      if (!loaded.ok) throw new UserError(`reward files ${files.map((f) => f.file).join(', ')}: ${loaded.message}; fix them and start again`);
      files.forEach((f, i) => {
        const s = selectRewards(root, f.file, loaded.files[i], f.spec.functions);
        if (!s.ok) throw new RewardFileError(`${formatProblem(s.problem)}; fix the reward file or the "functions" of its spec`, s.problem);
        f.rewards = s.rewards;
      });
      const dup = duplicateName(files);
      if (dup) throw new UserError(`${dup}; rename one, or choose with the "functions" of the reward specs`);
      const runner = new RewardRunner(root, tmpDir, script, files, slot, timeoutMs, workers, permissions);
      runner.setWeights(Object.assign({}, ...specs.map((s) => s.weights ?? {})));
      return runner;
    } catch (e) {
      await Promise.all(probe.map((s) => s.close()));
      rmSync(tmpDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The first lane reuses the worker that proved the bundles load; the others start on first use. */
  private lanes(first: WorkerSlot): WorkerSlot[] {
    return [first, ...Array.from({ length: this.workers - 1 }, () => first.sibling())];
  }

  /** Every reward function in use, with its file version and weight. */
  rewards(): RewardInfo[] {
    return this.files.flatMap((f) =>
      f.rewards.map((r) => ({ ...r, file: f.file, version: f.bundle.version, weight: this.weights.get(r.name) ?? f.spec.weight ?? 1 })),
    );
  }

  /** Reward file -> content hash of the version in use. */
  versions(): Record<string, string> {
    return Object.fromEntries(this.files.map((f) => [f.file, f.bundle.version]));
  }

  /** Weights by function name, from the next `score` on; functions not named keep theirs. */
  setWeights(weights: Record<string, number>): void {
    const names = this.rewards().map((r) => r.name);
    for (const [name, w] of Object.entries(weights)) {
      if (!names.includes(name)) throw new UserError(`reward weight for "${name}": no reward function has that name (they are: ${names.join(', ')}); fix the name`);
      if (!Number.isFinite(w)) throw new UserError(`reward weight for "${name}" must be a finite number, got ${w}; fix the weight`);
    }
    for (const [name, w] of Object.entries(weights)) this.weights.set(name, w);
  }

  /**
   * Recompiles reward files whose inputs changed since the version in use. Call it between
   * iterations only. New versions are loaded in a fresh worker before anything switches, so a
   * file that fails to compile or load keeps its last good version; its problem is reported once.
   */
  async reload(): Promise<ReloadReport> {
    this.enter();
    try {
      const report: ReloadReport = { reloaded: [], failed: [] };
      const candidates = new Map<RewardFile, RewardBundle>();
      for (const f of this.files) {
        if (hashInputs(this.root, f.bundle.inputs) === f.bundle.version) {
          // Back to the version in use (an edit undone): a problem reported for it is gone.
          if (f.reportedProblem !== undefined || f.rejectedVersion !== undefined) {
            report.reloaded.push({ file: f.file, version: f.bundle.version, previous: f.bundle.version });
          }
          f.reportedProblem = undefined;
          f.rejectedVersion = undefined;
          continue;
        }
        const compiled = await compileRewardFile(this.root, f.abs, this.tmpDir);
        if (!compiled.ok) {
          const text = formatProblem(compiled.problem);
          if (text !== f.reportedProblem) report.failed.push({ ...compiled.problem, rewardFile: f.file });
          f.reportedProblem = text;
          continue;
        }
        f.reportedProblem = undefined;
        const v = compiled.bundle.version;
        if (v !== f.bundle.version && v !== f.rejectedVersion) candidates.set(f, compiled.bundle);
      }
      // Each pass drops the candidates that failed, until the rest load together.
      while (candidates.size > 0) {
        const probe = new WorkerSlot(this.script, this.files.map((f, i) => writeBundle(this.tmpDir, i, candidates.get(f) ?? f.bundle)), this.timeoutMs, this.permissions);
        const outcome = this.judge(candidates, await probe.load());
        if (outcome.ok) {
          await Promise.all(this.slots.map((s) => s.close()));
          for (const [f, bundle] of candidates) {
            report.reloaded.push({ file: f.file, version: bundle.version, previous: f.bundle.version });
            f.bundle = bundle;
            f.rewards = outcome.rewards.get(f) ?? f.rewards;
            f.rejectedVersion = undefined;
          }
          this.slots = this.lanes(probe);
          break;
        }
        await probe.close();
        for (const [f, problem] of outcome.rejected) {
          f.rejectedVersion = candidates.get(f)?.version;
          candidates.delete(f);
          report.failed.push({ ...problem, rewardFile: f.file });
        }
      }
      return report;
    } finally {
      this.busy = false;
    }
  }

  /** The new rewards of each candidate, or the candidates to drop: those that do not load, lack a requested function or clash on a name. */
  private judge(
    candidates: Map<RewardFile, RewardBundle>,
    loaded: LoadOutcome,
  ): { ok: true; rewards: Map<RewardFile, ExportedReward[]> } | { ok: false; rejected: [RewardFile, CompileProblem][] } {
    if (!loaded.ok) return { ok: false, rejected: [...candidates.keys()].map((f) => [f, { file: f.file, line: 0, column: 0, message: loaded.message }]) };
    const rewards = new Map<RewardFile, ExportedReward[]>();
    const rejected: [RewardFile, CompileProblem][] = [];
    this.files.forEach((f, i) => {
      if (!candidates.has(f)) return;
      const s = selectRewards(this.root, f.file, loaded.files[i], f.spec.functions);
      if (s.ok) rewards.set(f, s.rewards);
      else rejected.push([f, s.problem]);
    });
    if (rejected.length > 0) return { ok: false, rejected };
    const dup = duplicateName(this.files.map((f) => ({ file: f.file, rewards: rewards.get(f) ?? f.rewards })));
    if (dup) return { ok: false, rejected: [...candidates.keys()].map((f) => [f, { file: f.file, line: 0, column: 0, message: dup }]) };
    return { ok: true, rewards };
  }

  /** Scores every input with every reward function. Never throws for user code: failures are NaN values with recorded errors. */
  async score(inputs: readonly ScoreInput[], iteration: number): Promise<RewardScores> {
    this.enter();
    try {
      const rewards = this.rewards();
      const tally = new IterationTally(rewards, inputs.length);
      const all = inputs.map((_, i) => i);
      // A per-sample reward is one call per sample, so a hang or a throw costs only that sample.
      const calls = inputs.length === 0 ? [] : rewards.flatMap((r, fn) => (r.batched ? [{ fn, samples: all }] : all.map((i) => ({ fn, samples: [i] }))));
      let next = 0;
      const lane = async (slot: WorkerSlot) => {
        while (next < calls.length) {
          const { fn, samples } = calls[next++];
          if (!tally.shouldCall(fn, samples)) continue;
          const r = rewards[fn];
          const req = { type: 'call' as const, id: ++this.nextCallId, file: r.file, fn: r.name, iteration, samples: samples.map((i) => inputs[i]) };
          tally.record(fn, samples, await slot.call(req));
        }
      };
      await Promise.all(this.slots.map(lane));
      return tally.finish();
    } finally {
      this.busy = false;
    }
  }

  /** Stops every worker and removes the compiled bundles. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.close()));
    rmSync(this.tmpDir, { recursive: true, force: true });
  }

  private enter(): void {
    assert(!this.closed, 'reward runner used after close()');
    assert(!this.busy, 'reward runner: score() and reload() must not overlap');
    this.busy = true;
  }
}

/** One file per version: a lane restarted on the version in use must not load a rejected candidate. */
function writeBundle(tmpDir: string, index: number, b: RewardBundle): BundleRef {
  const path = join(tmpDir, `${index}-${b.version}.js`);
  writeFileSync(path, b.code);
  return { file: b.file, path };
}
