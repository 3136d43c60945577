import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { scratchDir } from '../engine/scratch-dir';
import { assertBackendHealthy, initBackend } from '../engine/backend';
import { PeakMemory, wasmHeapBytes } from '../engine/memory-probe';
import { inPhase } from '../engine/out-of-memory';
import { UserError } from '../errors';
import type { CausalLM } from '../model/causal-lm';
import { loadModelConfig } from '../model/config';
import { adapterShape } from '../model/lora-targets';
import { ADAPTER_INFO_FILE, adapterInfo, describeAdapter } from './adapter-info';
import { expectedShapes } from '../model/params';
import { countParameters } from '../model/params';
import { Tokenizer } from '../tokenizer/tokenizer';
import { rolloutAdvantages } from './advantages';
import { maskTruncatedCompletions } from './completion-mask';
import { readCheckpoint, removeStaleSaves, saveCheckpoint, type TrainerState } from './checkpoint';
import { listCheckpoints } from './checkpoint-files';
import type { TrainingConfig } from './config';
import { DataOrder } from './data-order';
import { EntropyBonus } from './entropy-bonus';
import { evaluate } from './evaluate';
import { loadPromptDataset, preparePrompt, type PromptRow } from './dataset';
import { describePlan, planTraining } from './memory-plan';
import { iterationMetrics, nanMean, nanStd } from './iteration-metrics';
import { learningRateAt } from './learning-rate';
import { AdamW } from './optimizer';
import { oldLogprobsFromUpdate } from './old-logprobs';
import { updatePolicy } from './policy-update';
import type { KlReference } from './reference';
import { loadPolicy, runLoraSpec, startReference } from './policy-model';
import { RolloutEngine } from './rollout-engine';
import { UpdateWorker } from './update-worker';
import { updateThreads } from './update-threads';
import { MEMORY_FIX, runRollout, type Rollout, type RolloutPeaks } from './rollout';
import { rolloutRecords } from './rollout-records';
import { RunDir } from './run-dir';
import { ControlledRun } from './controlled-run';
import { mergeLiveSettings, type LiveSettings } from './live-settings';
import { RunHealth } from './run-health';
import { startRewards } from './start-rewards';
import type { RewardRunner } from '../rewards/runner';

export interface TrainerOptions {
  workspaceRoot: string; // reward files' imports resolve here
  resumeRunDir?: string; // continue this run from its newest checkpoint
}

/**
 * The GRPO loop as a library: rollout -> rewards -> advantages -> ppo_epochs of clipped
 * updates, one iteration at a time, writing everything to the run folder and telling
 * listeners. Commands (pause, stop, live settings) take effect at iteration boundaries.
 */
export class Trainer extends ControlledRun {
  private iteration: number; // iterations completed
  private readonly peaks = new PeakMemory();
  private readonly health = new RunHealth();

  private constructor(
    readonly config: TrainingConfig,
    readonly run: RunDir,
    private readonly policy: CausalLM,
    private readonly tokenizer: Tokenizer,
    private readonly rows: PromptRow[],
    private readonly rewards: RewardRunner,
    private readonly optimizer: AdamW,
    private reference: KlReference | undefined,
    private readonly dataOrder: DataOrder,
    private state: Omit<TrainerState, 'dataOrder' | 'optimizerStep' | 'format' | 'entropyBonus' | 'numTokens'> & { numTokens: number },
    private readonly backend: string,
    private readonly resumedFrom: number | undefined,
    private readonly heldOut: PromptRow[] | undefined,
    private readonly entropyBonus: EntropyBonus,
    private readonly memory: ReturnType<typeof planTraining>,
    private readonly rolloutEngine: RolloutEngine,
    private readonly updateWorker: { worker: UpdateWorker | undefined; description: string; tmpDir: string | undefined },
  ) {
    super();
    this.iteration = state.iteration;
  }

  static async create(config: TrainingConfig, opts: TrainerOptions): Promise<Trainer> {
    const backend = await initBackend(config.backend);
    const checkpoint = opts.resumeRunDir ? await newestCheckpoint(opts.resumeRunDir) : undefined;
    const rows = await loadPromptDataset(config.dataset_path);
    const heldOut = config.eval_dataset_path ? await loadPromptDataset(config.eval_dataset_path) : undefined;
    const tokenizer = await Tokenizer.load(config.model_path);
    // Planned before the weights load, so a run that cannot fit is refused before it starts.
    const modelConfig = await loadModelConfig(config.model_path);
    const longestPrompt = Math.max(1, ...rows.map((r) => preparePrompt(r, tokenizer, config.chat_template).ids.length));
    const lora = await runLoraSpec(config);
    const memory = planTraining(config, modelConfig, expectedShapes(modelConfig).values(), longestPrompt, backend.name, lora && adapterShape(modelConfig, lora, expectedShapes(modelConfig), config.model_path));
    const rolloutEngine = await RolloutEngine.open(config, modelConfig, backend.name);
    const policy = await loadPolicy(config, lora, checkpoint?.path);
    const threads = updateThreads(config, backend.name, lora !== undefined);
    const rewards = await startRewards(config, opts);
    const optimizer = new AdamW(policy.trainable, {
      beta1: config.adam_beta1,
      beta2: config.adam_beta2,
      eps: config.adam_eps,
      weightDecay: config.weight_decay,
      maxGradNorm: config.max_grad_norm,
    }, { hostMoments: memory.hostMoments });
    // A run whose kl_coef was raised while training has its reference in its checkpoints
    // (or, for a LoRA run's static reference, in its base weights and live settings).
    const raised = (checkpoint?.state.live.klCoef ?? 0) > 0;
    const reference = config.kl_coef > 0 || checkpoint?.reference || (raised && lora)
      ? await startReference(config, policy, checkpoint?.reference, checkpoint !== undefined)
      : undefined;
    let run: RunDir;
    let dataOrder: DataOrder;
    let state: Trainer['state'] = { iteration: 0, consecutiveSkipped: 0, live: {}, rewardVersions: {}, numTokens: 0 };
    if (checkpoint) {
      run = new RunDir(resolve(opts.resumeRunDir!));
      optimizer.restore(checkpoint.optimizer, checkpoint.path);
      dataOrder = DataOrder.restore(rows.length, checkpoint.state.dataOrder, checkpoint.path);
      state = { ...checkpoint.state, numTokens: checkpoint.state.numTokens ?? 0 };
      await run.truncateAfter(state.iteration);
      if (state.live.rewardWeights) rewards.setWeights(state.live.rewardWeights);
    } else {
      run = await RunDir.create(config.output_dir, config);
      dataOrder = DataOrder.start(rows.length, config.seed);
    }
    const entropyBonus = new EntropyBonus(config, checkpoint?.state.entropyBonus);
    // Last: a started worker thread keeps the process alive until close().
    const workerDir = threads.threads === 2 ? await scratchDir('grpo-update') : undefined;
    let worker: UpdateWorker | undefined;
    try {
      worker = workerDir ? await UpdateWorker.start(policy, workerDir) : undefined;
    } catch (e) {
      await rewards.close();
      throw e;
    }
    const updateWorker = { worker, description: `${threads.threads} thread${threads.threads === 2 ? 's' : ''} (${threads.why})`, tmpDir: workerDir };
    return new Trainer(config, run, policy, tokenizer, rows, rewards, optimizer, reference, dataOrder, state, backend.reason, checkpoint?.state.iteration, heldOut, entropyBonus, memory, rolloutEngine, updateWorker);
  }

  setLive(change: LiveSettings): void {
    if (change.rewardWeights) this.rewards.setWeights(change.rewardWeights);
    this.state.live = mergeLiveSettings(this.state.live, change);
  }

  /** Trains until num_iterations, a stop, or too many non-finite updates in a row. */
  async train(): Promise<void> {
    const adapter = adapterInfo(this.policy);
    this.emit({
      type: 'run-started',
      runDir: this.run.path,
      backend: this.backend,
      model: this.config.model_path,
      parameters: countParameters(this.policy.params),
      resumedFrom: this.resumedFrom,
      adapter,
    });
    await this.run.log(`${this.resumedFrom !== undefined ? `resumed after iteration ${this.resumedFrom}` : 'started'}; backend ${this.backend}`);
    if (adapter) {
      await this.run.writeJson(ADAPTER_INFO_FILE, adapter);
      await this.run.log(describeAdapter(adapter));
    }
    await this.run.log(`memory plan: ${describePlan(this.memory)}`);
    await this.run.log(`rollouts: ${this.rolloutEngine.description}`);
    await this.run.log(`update: ${this.updateWorker.description}`);
    let reason: 'completed' | 'stopped' | 'failed' = 'completed';
    try {
      if (this.iteration === 0) await this.evaluateHeldOut();
      while (this.iteration < this.config.num_iterations) {
        if (!(await this.waitAtBoundary(this.iteration))) {
          reason = 'stopped';
          break;
        }
        await this.runIteration(this.iteration + 1);
        this.iteration++;
        const evalEvery = this.config.eval_every;
        if (evalEvery > 0 && this.iteration % evalEvery === 0 && this.iteration < this.config.num_iterations) await this.evaluateHeldOut();
        const every = this.config.checkpoint_every;
        const saved = every > 0 && this.iteration % every === 0 && this.iteration < this.config.num_iterations ? await this.saveCheckpoint() : undefined;
        if (this.state.consecutiveSkipped >= this.config.max_consecutive_nonfinite) {
          // Skipped updates change nothing, so the weights now are the last good ones: keep them.
          const path = saved ?? (await this.saveCheckpoint());
          throw new UserError(
            `${this.state.consecutiveSkipped} updates in a row had a NaN or infinite loss or gradient; stopping. ` +
              'Lower learning_rate, raise max_grad_norm clipping (smaller value), or check the rewards for extreme values; ' +
              `the weights from before them are saved in ${path}`,
          );
        }
      }
      if (this.iteration > 0) await this.saveCheckpoint();
      if (reason === 'completed' && this.iteration > 0) await this.evaluateHeldOut();
    } catch (e) {
      reason = 'failed';
      this.emit({ type: 'error', message: (e as Error).message });
      throw e;
    } finally {
      this.emit({ type: 'finished', iteration: this.iteration, reason, runDir: this.run.path });
      // Not to hide the error that ended the run when the disk refuses this line too.
      await this.run.log(`finished (${reason}) after iteration ${this.iteration}`).catch((e) => {
        if (reason !== 'failed') throw e;
      });
    }
  }

  /**
   * Saves a checkpoint of the state after the last completed iteration. Call it only between
   * iterations (paused, or from an event of a finished iteration): mid-iteration the weights
   * are being updated while it reads them.
   */
  async saveCheckpoint(): Promise<string> {
    const path = await saveCheckpoint(
      this.run.checkpointsDir,
      {
        model: this.policy,
        tokenizerDir: this.config.model_path,
        optimizer: this.optimizer,
        reference: this.reference?.tensors(),
        state: {
          format: 1,
          ...this.state,
          iteration: this.iteration,
          dataOrder: this.dataOrder.state(),
          optimizerStep: this.optimizer.step,
          entropyBonus: this.entropyBonus.state(),
        },
      },
      this.config.keep_checkpoints,
    );
    this.emit({ type: 'checkpoint-saved', iteration: this.iteration, path });
    return path;
  }

  /** Greedy completions of the held-out prompts, scored: the before/after check of a run. */
  private async evaluateHeldOut(): Promise<void> {
    if (!this.heldOut) return;
    const c = this.config;
    const result = await evaluate(this.policy, this.tokenizer, this.heldOut, this.rewards, {
      sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: c.repetition_penalty },
      maxNewTokens: c.max_new_tokens,
      useChatTemplate: c.chat_template,
      stopStrings: c.stop,
      seed: c.seed,
      batchSize: c.rollout_batch_size * c.group_size,
      iteration: this.iteration,
    });
    const line = { iteration: this.iteration, prompts: result.prompts, reward: result.total, rewards: result.mean, failures: result.failures, seconds: result.seconds };
    await this.run.appendEvaluation(line);
    this.emit({ type: 'evaluation', ...line });
  }

  private async runIteration(iteration: number): Promise<void> {
    const c = this.config;
    const started = performance.now();
    const live = this.state.live;
    const learningRate = live.learningRate ?? learningRateAt(c, iteration);
    const temperature = live.temperature ?? c.temperature;
    const klCoef = live.klCoef ?? c.kl_coef;
    this.emit({ type: 'iteration-started', iteration, learningRate });
    if (klCoef > 0 && !this.reference) await this.createReference(klCoef, iteration);

    // Reward edits land here, between iterations, never in the middle of one.
    const reload = await this.rewards.reload();
    for (const r of reload.reloaded) this.emit({ type: 'reward-reloaded', file: r.file, version: r.version });
    for (const f of reload.failed) {
      this.emit({ type: 'reward-reload-failed', file: f.file, message: f.message, line: f.line, column: f.column, rewardFile: f.rewardFile });
    }

    const rows = this.dataOrder.take(c.rollout_batch_size).map((i) => this.rows[i]);
    const rollout: Rollout = await runRollout(this.policy, this.tokenizer, rows, c, klCoef > 0 ? this.reference : undefined, {
      seed: c.seed * 1_000_003 + iteration, // per iteration, so a resumed run samples alike
      temperature,
      plan: this.memory,
      oldFromUpdate: oldLogprobsFromUpdate(c, this.policy),
      memory: this.peaks,
      onProgress: (step, maxNewTokens) => this.emit({ type: 'generation-progress', iteration, step, maxNewTokens }),
      generate: await this.rolloutEngine.forIteration(
        this.policy,
        { temperature, topP: c.top_p, minP: c.min_p, repetitionPenalty: c.repetition_penalty },
        (message) => this.emit({ type: 'warning', message }),
      ),
    });
    this.emit({ type: 'rollout-ready', iteration, completions: rollout.samples.length, generateSeconds: rollout.generateSeconds });

    const rewardStart = performance.now();
    const scores = await this.rewards.score(
      rollout.samples.map((s) => ({ prompt: s.prompt, completion: s.completion, completionIds: s.completionIds, row: this.rows[s.rowIndex].row })),
      iteration - 1,
    );
    const rewardSeconds = (performance.now() - rewardStart) / 1000;
    const advantages = rolloutAdvantages(scores, c);
    const failed = scores.functions.filter((f) => f.errors.length > 0).map((f) => ({ fn: f.name, errors: f.errors }));
    this.emit({ type: 'rewards-scored', iteration, mean: nanMean(scores.total), std: nanStd(scores.total), failed });

    const mask = c.mask_truncated_completions
      ? maskTruncatedCompletions(rollout.batch.completionMask, rollout.batch.completionLength, rollout.samples.map((s) => s.finishReason === 'length'))
      : rollout.batch.completionMask;
    this.peaks.reset();
    const updateSizes = () =>
      `optimizer steps of ${c.minibatch_size} completions in micro-batches of ${this.memory.microRows}, ${rollout.batch.promptLength + rollout.batch.completionLength} tokens each, ` +
      `output head in slices of ${this.memory.vocabChunk}`;
    const update = await inPhase('updating the policy', updateSizes, MEMORY_FIX, () => updatePolicy(this.policy, this.optimizer, c, {
      rollout,
      advantages: advantages.advantages,
      mask,
      learningRate,
      klCoef,
      temperature,
      entropyBonus: this.entropyBonus,
      plan: this.memory,
      seed: c.seed * 1_000_003 + iteration,
      consecutiveSkippedBefore: this.state.consecutiveSkipped,
      parallel: this.updateWorker.worker,
    }));
    // Before anything of this iteration is written: its weights may rest on a failed GPU command.
    assertBackendHealthy(`iteration ${iteration}`);
    const updatePeak = this.peaks.peakBytes;
    this.state.consecutiveSkipped = update.consecutiveSkipped;
    if (update.skipped > 0) this.emit({ type: 'warning', message: `iteration ${iteration}: ${update.skipped} update(s) skipped for a NaN or infinite gradient` });
    await this.reference?.afterIteration(this.policy, iteration);

    // TRL's num_tokens: every completion's prompt and completion tokens, cumulative over the run.
    this.state.numTokens += rollout.samples.reduce((n, s) => n + rollout.promptLengths[s.group] + s.completionIds.length, 0);
    const metrics = {
      ...iterationMetrics(
        {
          iteration,
          epoch: this.dataOrder.epoch,
          learningRate,
          klCoef: this.reference ? klCoef : 0,
          entropyBonus: this.entropyBonus.enabled,
          clippedLoss: c.loss_type !== 'cispo',
          numTokens: this.state.numTokens,
          rewardSeconds,
          iterationSeconds: (performance.now() - started) / 1000,
        },
        rollout,
        scores,
        advantages,
        update,
      ),
      temperature,
      kl_coef: klCoef,
      ...memoryMetrics(rollout.peakBytes, updatePeak, this.memory.peakBytes),
    };
    this.state.rewardVersions = this.rewards.versions();
    await this.run.appendMetrics(metrics);
    await this.run.writeRollouts(iteration, rolloutRecords(rollout, scores, advantages.advantages));
    if (failed.length > 0) await this.run.writeRewardErrors(iteration, { failed });
    if (scores.logs.length > 0) await this.run.writeRewardLogs(iteration, scores.logs);
    this.emit({ type: 'metrics', iteration, metrics });
    const alarm = this.health.observe(iteration, scores.total, advantages.zeroStdGroups, c.rollout_batch_size);
    if (alarm) this.emit(alarm);
  }

  /**
   * kl_coef was raised above 0 in a run that holds no reference (it started at 0). A static
   * reference is the run's starting model, read again from model_path, as if it had been held
   * from the start; ema and periodic references start from the policy as it is now.
   */
  private async createReference(klCoef: number, iteration: number): Promise<void> {
    const c = this.config;
    this.reference = await startReference(c, this.policy, undefined, true);
    const from =
      c.reference_mode !== 'static'
        ? 'the policy as it is now'
        : !this.policy.lora
          ? `the starting model (${c.model_path})`
          : c.lora?.adapter_path
            ? `the adapter the run started from (${c.lora.adapter_path})`
            : 'the base model (adapters off)';
    this.emit({
      type: 'warning',
      message: `iteration ${iteration}: kl_coef is now ${klCoef} in a run that began without a KL term; its ${c.reference_mode} reference model is ${from}, held from now on`,
    });
  }

  async close(): Promise<void> {
    await this.rolloutEngine.close();
    await this.updateWorker.worker?.close();
    if (this.updateWorker.tmpDir) await rm(this.updateWorker.tmpDir, { recursive: true, force: true });
    await this.rewards.close();
    this.optimizer.dispose();
    this.policy.dispose();
  }
}

/** Peak tensor memory per phase, MiB; what memory_budget_mb and the plan are about. */
function memoryMetrics(rollout: RolloutPeaks, update: number, planned: number): Record<string, number> {
  const mb = (bytes: number) => Math.round(bytes / 1048576);
  const out: Record<string, number> = { 'memory/generate_mb': mb(rollout.generate), 'memory/score_mb': mb(rollout.score), 'memory/update_mb': mb(update), 'memory/planned_mb': mb(planned) };
  if (rollout.reference > 0) out['memory/reference_mb'] = mb(rollout.reference);
  const heap = wasmHeapBytes();
  if (heap !== undefined) out['memory/wasm_heap_mb'] = mb(heap);
  return out;
}

async function newestCheckpoint(runDir: string) {
  await removeStaleSaves(resolve(runDir, 'checkpoints')); // what a killed save left
  const all = await listCheckpoints(resolve(runDir, 'checkpoints'));
  if (all.length === 0) throw new UserError(`${runDir}: no complete checkpoint to resume from (looked in ${resolve(runDir, 'checkpoints')})`);
  return readCheckpoint(all[all.length - 1].path);
}
