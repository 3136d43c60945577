// The trl engine: TRL's GRPOTrainer in a Python process (python/grpo_trl) does the sampling
// and the updates; this side keeps everything GRPO Studio adds to it. The TypeScript rewards
// score every batch here (hot-reloaded at each generation batch, with their timeouts, errors,
// ctx.log and ctx.metric), and this side writes the run folder (metrics.jsonl under the same
// names, rollouts with per-token log-probabilities, evaluations, reward errors and logs, the
// log) and decides at each iteration boundary whether to continue, pause, save or stop, and
// which live settings apply. TRL writes only its checkpoints, as HF folders with trainer state.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { scratchDir } from '../engine/scratch-dir';
import { textBeforeStop } from '../model/stop-strings';
import { UserError } from '../errors';
import { RewardRunner } from '../rewards/runner';
import { rolloutAdvantages } from '../trainer/advantages';
import type { RewardScores } from '../rewards/scores';
import { Tokenizer } from '../tokenizer/tokenizer';
import { TRL_LIVE_SETTINGS_FILE } from '../trainer/checkpoint-files';
import type { TrainingConfig } from '../trainer/config';
import { loadPromptDataset, preparePrompt, renderPrompt, type PromptRow } from '../trainer/dataset';
import type { IterationMetrics } from '../trainer/events';
import { nanMean, nanStd } from '../trainer/iteration-metrics';
import { learningRateAt } from '../trainer/learning-rate';
import { ControlledRun } from '../trainer/controlled-run';
import { mergeLiveSettings, type LiveSettings } from '../trainer/live-settings';
import { RunDir } from '../trainer/run-dir';
import { RunHealth } from '../trainer/run-health';
import { runLoraSpec } from '../trainer/policy-model';
import { startRewards } from '../trainer/start-rewards';
import type { TrainingRun, TrainingRunOptions } from '../trainer/training-run';
import { listTrlCheckpoints, TRL_CONFIG_FILE } from './checkpoints';
import { stepsPerIteration, trlGrpoConfig, trlLoraConfig, trlReference } from './grpo-config';
import { probePython, pythonExecutable, type TrlPython } from './python';
import { evaluationLine, rolloutLines, scoreReply } from './trl-records';
import { TrlProcess, type TrlMessage, type TrlSample } from './trl-process';



interface ScoredBatch {
  id: number;
  samples: TrlSample[];
  scores: RewardScores;
  rewardSeconds: number;
  generateSeconds: number;
  rollout?: Record<string, unknown>[];
}

export class TrlTrainer extends ControlledRun implements TrainingRun {
  private process: TrlProcess | undefined;
  private liveUnsent: LiveSettings = {};
  private handling: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private done: { stopped: boolean } | undefined;
  private iteration: number;
  private iterationStarted = performance.now();
  private nextScoreId = 1;
  private batch: ScoredBatch | undefined;
  private savedWaiters: ((path: string) => void)[] = [];
  private logTail: string[] = [];
  private readonly health = new RunHealth();

  private constructor(
    readonly config: TrainingConfig,
    readonly run: RunDir,
    private readonly python: TrlPython,
    private readonly tokenizer: Tokenizer,
    private readonly rows: PromptRow[],
    private readonly heldOut: PromptRow[] | undefined,
    private readonly rewards: RewardRunner,
    private readonly rewardNames: string[],
    private readonly specFile: string,
    private readonly resumedFrom: number | undefined,
    private live: LiveSettings,
  ) {
    super();
    this.iteration = resumedFrom ?? 0;
  }

  static async create(config: TrainingConfig, opts: TrainingRunOptions): Promise<TrlTrainer> {
    const file = opts.resumeRunDir ? join(opts.resumeRunDir, 'config.json') : 'the training settings';
    const steps = stepsPerIteration(config);
    // Refusals first: nothing starts for a config TRL cannot honour.
    trlGrpoConfig(config, file, '', []);
    const python = await probePython(pythonExecutable(opts.python), config.lora !== undefined);
    // A continued adapter's settings must agree with it, as in the tfjs engine (PEFT reads its own).
    await runLoraSpec(config);
    const rows = await loadPromptDataset(config.dataset_path);
    const heldOut = config.eval_dataset_path ? await loadPromptDataset(config.eval_dataset_path) : undefined;
    const tokenizer = await Tokenizer.load(config.model_path);
    checkPromptLengths(config, tokenizer, rows, config.dataset_path);
    if (heldOut) checkPromptLengths(config, tokenizer, heldOut, config.eval_dataset_path!);

    let run: RunDir;
    let resumeFrom: { iteration: number; path: string } | undefined;
    if (opts.resumeRunDir) {
      run = new RunDir(resolve(opts.resumeRunDir));
      const all = await listTrlCheckpoints(run.checkpointsDir, steps);
      resumeFrom = all[all.length - 1];
      if (!resumeFrom) throw new UserError(`${opts.resumeRunDir}: no complete TRL checkpoint to resume from (looked for checkpoint-N folders with trainer_state.json in ${run.checkpointsDir})`);
      await run.truncateAfter(resumeFrom.iteration);
    } else {
      run = await RunDir.create(config.output_dir, config);
    }
    const rewards = await startRewards(config, opts);
    const names = rewards.rewards().map((r) => r.name);
    const weights = rewards.rewards().map((r) => r.weight);
    const trl = trlGrpoConfig(config, file, run.checkpointsDir, weights);
    await run.writeJson(TRL_CONFIG_FILE, trl);
    const asTrlPrompt = (r: PromptRow) => ({
      // A text prompt under chat_template becomes one user turn, as here; TRL renders the template.
      prompt: typeof r.prompt === 'string' && config.chat_template ? [{ role: 'user', content: r.prompt }] : r.prompt,
      grpo_row: r.index,
    });
    const live = resumeFrom ? await readLiveSettings(resumeFrom.path) : {};
    if (live.rewardWeights) rewards.setWeights(live.rewardWeights);
    const spec = {
      model_path: config.model_path,
      trl,
      lora: trlLoraConfig(config) ?? null,
      reference: trlReference(config),
      stop: config.stop,
      reward_functions: names,
      train_rows: rows.map(asTrlPrompt),
      eval_rows: heldOut?.map(asTrlPrompt) ?? null,
      eval_every: config.eval_every,
      eval_batch_size: config.rollout_batch_size * config.group_size,
      steps_per_iteration: steps,
      num_iterations: config.num_iterations,
      resume_from: resumeFrom?.path ?? null,
      live,
    };
    const dir = await scratchDir('grpo-trl');
    const specFile = join(dir, 'spec.json');
    await writeFile(specFile, JSON.stringify(spec));
    return new TrlTrainer(config, run, python, tokenizer, rows, heldOut, rewards, names, specFile, resumeFrom?.iteration, live);
  }

  setLive(change: LiveSettings): void {
    if (change.rewardWeights) this.rewards.setWeights(change.rewardWeights);
    this.live = mergeLiveSettings(this.live, change);
    this.liveUnsent = mergeLiveSettings(this.liveUnsent, change);
  }

  /** While paused at a boundary: TRL saves a checkpoint now. */
  saveCheckpoint(): Promise<string> {
    const saved = new Promise<string>((r) => this.savedWaiters.push(r));
    this.process?.send({ type: 'save' });
    return saved;
  }

  async train(): Promise<void> {
    const v = this.python.versions;
    await this.run.log(`${this.resumedFrom !== undefined ? `resumed after iteration ${this.resumedFrom}` : 'started'}; engine trl: TRL ${v.trl}, transformers ${v.transformers}, torch ${v.torch} in ${this.python.executable}`);
    const process = TrlProcess.start(this.python.executable, this.specFile, {
      message: (m) => (this.handling = this.handling.then(() => this.handle(m)).catch((e: Error) => this.fail(e))),
      log: (line) => {
        this.logTail = [...this.logTail.slice(-19), line];
        this.run.log(`trl: ${line}`).catch(() => undefined);
      },
    });
    this.process = process;
    let reason: 'completed' | 'stopped' | 'failed' = 'completed';
    try {
      const exit = await process.exit();
      await this.handling;
      if (this.failure) throw this.failure;
      if (!this.done) {
        const how = exit.signal ? `was ended by ${exit.signal}` : `exited with status ${exit.code}`;
        throw new UserError(`the TRL process ${how} after iteration ${this.iteration}; its last lines (all of them are in ${join(this.run.path, 'log.txt')}):\n${this.logTail.join('\n')}`);
      }
      if (this.done.stopped) reason = 'stopped';
    } catch (e) {
      reason = 'failed';
      this.emit({ type: 'error', message: (e as Error).message });
      throw e;
    } finally {
      this.emit({ type: 'finished', iteration: this.iteration, reason, runDir: this.run.path });
      await this.run.log(`finished (${reason}) after iteration ${this.iteration}`).catch(() => undefined);
    }
  }

  /** A failure on this side ends the TRL process: it would wait for an answer forever. */
  private fail(e: Error): void {
    this.failure ??= e;
    void this.process?.kill();
  }

  private async handle(m: TrlMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.emit({
          type: 'run-started',
          runDir: this.run.path,
          backend: `trl (TRL ${this.python.versions.trl}, torch ${this.python.versions.torch} on ${m.device}, ${m.dtype}, ${m.threads} threads)`,
          model: this.config.model_path,
          parameters: m.parameters,
          resumedFrom: this.resumedFrom,
        });
        await this.run.log(`TRL on ${m.device} (${m.dtype}, ${m.threads} threads): ${m.parameters} parameters, ${m.trainable} trained`);
        return;
      case 'iteration-started':
        this.iterationStarted = performance.now();
        this.emit({ type: 'iteration-started', iteration: m.iteration, learningRate: this.live.learningRate ?? learningRateAt(this.config, m.iteration) });
        return;
      case 'score':
        // The tokens of a stop string stay in the completion; its text ends before it, as here.
        for (const sample of m.samples) sample.completion = textBeforeStop(sample.completion, this.config.stop);
        return m.purpose === 'eval' ? this.scoreEvaluation(m) : this.scoreBatch(m);
      case 'rollout':
        if (this.batch?.id === m.score_id) this.batch.rollout = rolloutLines(m.samples, this.batch.samples, this.batch.scores, this.rows, (r) => this.promptText(r));
        return;
      case 'metrics':
        return this.finishIteration(m);
      case 'boundary':
        // Not awaited: while paused here, the messages of a save asked for meanwhile must be read.
        void this.boundary(m.iteration).catch((e: Error) => this.fail(e));
        return;
      case 'checkpoint':
        // The live settings in force, beside TRL's state: a resumed run goes on with them.
        await writeFile(join(m.path, TRL_LIVE_SETTINGS_FILE), JSON.stringify(this.live, null, 2) + '\n');
        this.emit({ type: 'checkpoint-saved', iteration: m.iteration, path: m.path });
        for (const w of this.savedWaiters.splice(0)) w(m.path);
        return;
      case 'done':
        this.done = { stopped: m.stopped };
        return;
    }
  }

  private promptText(row: PromptRow): string {
    return renderPrompt(row, this.tokenizer, this.config.chat_template); // text only: no tokens needed
  }

  private async score(samples: TrlSample[], rows: PromptRow[], iteration: number): Promise<RewardScores> {
    return this.rewards.score(
      samples.map((s) => ({ prompt: this.promptText(rows[s.row]), completion: s.completion, completionIds: s.completion_ids, row: rows[s.row].row })),
      iteration,
    );
  }

  private async scoreBatch(m: Extract<TrlMessage, { type: 'score' }>): Promise<void> {
    const iteration = this.iteration + 1;
    const generateSeconds = (performance.now() - this.iterationStarted) / 1000;
    this.emit({ type: 'rollout-ready', iteration, completions: m.samples.length, generateSeconds });
    // Reward edits land here, at a generation batch's start, never in the middle of one.
    const reload = await this.rewards.reload();
    for (const r of reload.reloaded) this.emit({ type: 'reward-reloaded', file: r.file, version: r.version });
    for (const f of reload.failed) this.emit({ type: 'reward-reload-failed', file: f.file, message: f.message, line: f.line, column: f.column, rewardFile: f.rewardFile });
    const started = performance.now();
    const scores = await this.score(m.samples, this.rows, m.iteration);
    const rewardSeconds = (performance.now() - started) / 1000;
    // A function a reload added joins TRL's list now, with its weight: it counts from this
    // generation batch, as in the tfjs engine.
    const added: Record<string, number> = {};
    for (const f of scores.functions) {
      if (this.rewardNames.includes(f.name)) continue;
      added[f.name] = this.rewards.rewards().find((r) => r.name === f.name)?.weight ?? 1;
      this.rewardNames.push(f.name);
    }
    const failed = scores.functions.filter((f) => f.errors.length > 0).map((f) => ({ fn: f.name, errors: f.errors }));
    this.emit({ type: 'rewards-scored', iteration, mean: nanMean(scores.total), std: nanStd(scores.total), failed });
    const id = this.nextScoreId++;
    this.batch = { id, samples: m.samples, scores, rewardSeconds, generateSeconds };
    this.process?.send({ type: 'scores', id, functions: scoreReply(scores, this.rewardNames), added });
  }

  private async scoreEvaluation(m: Extract<TrlMessage, { type: 'score' }>): Promise<void> {
    const rows = this.heldOut ?? [];
    const scores = await this.score(m.samples, rows, m.iteration);
    const line = evaluationLine(m.iteration, scores, m.seconds ?? 0);
    await this.run.appendEvaluation(line);
    this.emit({ type: 'evaluation', ...line });
    this.process?.send({ type: 'scores', id: this.nextScoreId++, functions: scoreReply(scores, this.rewardNames) });
  }

  private async finishIteration(m: Extract<TrlMessage, { type: 'metrics' }>): Promise<void> {
    const batch = this.batch;
    this.iteration = m.iteration;
    const logs = Object.fromEntries(Object.entries(m.logs).map(([k, v]) => [k, v ?? NaN]));
    const scores = batch?.scores;
    const metrics: IterationMetrics = {
      iteration: m.iteration,
      ...logs,
      optimizer_steps: stepsPerIteration(this.config),
      temperature: this.live.temperature ?? this.config.temperature,
      kl_coef: this.live.klCoef ?? this.config.kl_coef,
      'time/generate': batch?.generateSeconds ?? NaN,
      'time/rewards': batch?.rewardSeconds ?? NaN,
      'time/iteration': m.seconds,
      ...(scores
        ? {
            reward_failures: scores.functions.reduce((n, f) => n + f.errors.reduce((k, e) => k + e.samples.length, 0), 0),
            reward_versions: Object.fromEntries(scores.functions.map((f) => [f.file, f.version])),
          }
        : {}),
    };
    await this.run.appendMetrics(metrics);
    if (batch?.rollout) await this.run.writeRollouts(m.iteration, batch.rollout);
    if (scores) {
      const failed = scores.functions.filter((f) => f.errors.length > 0).map((f) => ({ fn: f.name, errors: f.errors }));
      if (failed.length > 0) await this.run.writeRewardErrors(m.iteration, { failed });
      if (scores.logs.length > 0) await this.run.writeRewardLogs(m.iteration, scores.logs);
    }
    this.emit({ type: 'metrics', iteration: m.iteration, metrics });
    if (scores) {
      const alarm = this.health.observe(m.iteration, scores.total, rolloutAdvantages(scores, this.config).zeroStdGroups, this.config.rollout_batch_size);
      if (alarm) this.emit(alarm);
    }
  }

  private async boundary(iteration: number): Promise<void> {
    const c = this.config;
    const go = await this.waitAtBoundary(iteration);
    const last = iteration >= c.num_iterations;
    const stop = !go && !last;
    const save = stop || last || (c.checkpoint_every > 0 && iteration % c.checkpoint_every === 0);
    this.process?.send({ type: 'continue', save, stop, live: this.liveUnsent });
    this.liveUnsent = {};
  }

  async close(): Promise<void> {
    await this.process?.kill();
    await this.rewards.close();
    await rm(dirname(this.specFile), { recursive: true, force: true });
  }
}

async function readLiveSettings(checkpoint: string): Promise<LiveSettings> {
  const file = join(checkpoint, TRL_LIVE_SETTINGS_FILE);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LiveSettings;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message}); delete it to resume with the config's settings, or restore it`);
  }
}

/** TRL does not truncate prompts; a prompt longer than max_prompt_tokens is refused here. */
function checkPromptLengths(c: TrainingConfig, tokenizer: Tokenizer, rows: PromptRow[], file: string): void {
  const long = rows.map((r) => ({ row: r.index, tokens: preparePrompt(r, tokenizer, c.chat_template).ids.length })).filter((r) => r.tokens > c.max_prompt_tokens);
  if (long.length === 0) return;
  const longest = long.reduce((a, b) => (b.tokens > a.tokens ? b : a));
  throw new UserError(
    `${file}: ${long.length} prompt(s) are longer than max_prompt_tokens ${c.max_prompt_tokens} (the longest, row ${longest.row + 1}, has ${longest.tokens} tokens), ` +
      'and TRL does not cut prompts as the tfjs engine does; raise max_prompt_tokens or shorten those prompts',
  );
}
