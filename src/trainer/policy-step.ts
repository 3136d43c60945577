import * as tf from '@tensorflow/tfjs-core';
import { canReadSync } from '../engine/backend';
import { stopGradient } from '../engine/stop-gradient';
import type { CausalLM } from '../model/causal-lm';
import type { TrainingConfig } from './config';
import { entropyThreshold, tokensAtOrAbove } from './entropy-mask';
import { lossAndGradients } from './gradients';
import { combineLossParts, grpoLoss, readLossParts, type GrpoLossPartValues, type GrpoLossStatValues, type StepCounts } from './loss';
import { completionLogprobsAndEntropy, selectRows, type SequenceBatch } from './sequence-batch';

/** One optimizer step's completions and the constants the loss compares them with. */
export interface StepBatch {
  batch: SequenceBatch; // B completions, padded to the rollout's P and C
  /** [B, C] policy at rollout time; absent: the step's own, detached (old-logprobs.ts), which it returns. */
  oldLogprobs?: Float32Array;
  refLogprobs?: Float32Array; // [B, C]; needed when beta > 0
  advantages: ArrayLike<number>; // [B]
  mask: Float32Array; // [B, C] tokens that count
}

/** What a step's loss needs besides its batch. */
export interface StepSettings {
  temperature: number;
  beta: number; // kl_coef as applied; 0 without a reference
  batchTokenCount: number; // active tokens of the whole rollout (dapo, cispo)
  stepsPerBatch: number; // optimizer steps per pass over the rollout (dapo, cispo)
  entropyCoef: number; // the bonus as applied this step; 0: none
  microRows: number; // rows per micro-batch (memory-plan.ts)
  vocabChunk: number; // output-head slice (memory-plan.ts)
  /** Recompute each decoder layer in the backward pass (memory-plan.ts's recompute). */
  recompute?: boolean;
  /** Sum a split step's gradients in host memory rather than on the backend (memory-plan.ts's hostMoments). */
  hostGradients?: boolean;
  /** Seeds LoRA dropout for this step (each micro-batch and layer derive their own), so a resume is exact. */
  dropoutSeed?: number;
  /** Runs half of each step's micro-batches on the other core (update-worker.ts). */
  parallel?: UpdateShareRunner;
}

/** What computes a share of a step elsewhere: the update worker. */
export interface UpdateShareRunner {
  share(
    model: CausalLM, config: TrainingConfig, step: StepBatch, micro: number[][], firstIndex: number,
    s: StepSettings, counts: StepCounts, threshold: number | undefined,
  ): Promise<{ loss: number; parts: Partial<GrpoLossPartValues>[]; grads: Map<string, { values: Float32Array; shape: number[] }>; logprobs?: Float32Array }>;
}

export interface StepResult {
  loss: number; // the minimised loss, bonus included
  grads: Map<string, tf.Tensor>; // the caller's to dispose
  stats: GrpoLossStatValues;
  /** [B, C] the step's log-probabilities before its update, when the step had no oldLogprobs. */
  logprobs?: Float32Array;
}

/**
 * The loss of one optimizer step and its gradient for every parameter. The step's rows go
 * through the model `microRows` at a time, each micro-batch's loss normalised by the whole
 * step's counts, so losses and gradients add up to those of the step computed at once
 * (memory is what differs). With top_entropy_quantile < 1 the threshold is the quantile of
 * the whole step's entropies, read in a first forward pass without a tape when the step is split.
 */
export async function stepLossAndGradients(model: CausalLM, config: TrainingConfig, step: StepBatch, s: StepSettings): Promise<StepResult> {
  const { batch } = step;
  // With an update worker a step has two micro-batches at least, one for each thread.
  const microRows = s.parallel && batch.rows > 1 ? Math.min(s.microRows, Math.ceil(batch.rows / 2)) : s.microRows;
  const micro: number[][] = [];
  for (let start = 0; start < batch.rows; start += microRows) micro.push(range(start, Math.min(start + microRows, batch.rows)));
  const counts: StepCounts = { sequences: batch.rows, tokens: countActive(step.mask), bonusTokens: countActive(step.mask) };
  let threshold: number | undefined;
  const q = 1 - config.top_entropy_quantile;
  // A split step needs every micro-batch's entropies before the first loss; a whole one reads
  // its own in its forward pass, except on a backend that cannot read inside the tape (webgpu).
  if (q > 0 && (micro.length > 1 || !canReadSync())) threshold = entropyThresholdInto(await stepEntropies(model, batch, micro, s.temperature, s.vocabChunk), step.mask, q, counts);

  const shares = s.parallel && micro.length > 1 ? [micro.slice(0, Math.ceil(micro.length / 2)), micro.slice(Math.ceil(micro.length / 2))] : [micro];
  const onHost = s.hostGradients === true && micro.length > 1;
  // The second half goes to the update worker and runs on the other core while this thread
  // runs the first; micro-batch indices stay the step's, so dropout seeds are the same.
  const remote = shares.length > 1 ? s.parallel!.share(model, config, step, shares[1], shares[0].length, s, counts, threshold) : undefined;
  let local: ShareResult;
  try {
    local = await stepShare(model, config, step, shares[0], 0, s, counts, threshold, onHost);
  } catch (e) {
    await remote?.catch(() => undefined);
    throw e;
  }
  if (!remote) return { loss: local.loss, grads: local.grads, stats: combineLossParts(local.parts, config.importance_sampling_level === 'sequence'), logprobs: local.logprobs };
  let other: Awaited<typeof remote>;
  try {
    other = await remote;
  } catch (e) {
    tf.dispose([...local.grads.values()]);
    throw e;
  }
  const grads = new Map<string, tf.Tensor>();
  for (const [name, g] of local.grads) {
    const theirs = other.grads.get(name)!;
    grads.set(name, tf.tidy(() => tf.add(g, tf.tensor(theirs.values, theirs.shape, 'float32'))));
    g.dispose();
  }
  // Micro-batches are consecutive rows: the worker's read the rows from its first one on.
  const logprobs = local.logprobs;
  const from = shares[1][0][0] * step.batch.completionLength;
  if (logprobs && other.logprobs) logprobs.set(other.logprobs.subarray(from), from);
  return { loss: local.loss + other.loss, grads, stats: combineLossParts([...local.parts, ...other.parts], config.importance_sampling_level === 'sequence'), logprobs };
}

/** What one share of a step's micro-batches gives: the sum of their losses and gradients. */
export interface ShareResult {
  loss: number;
  parts: Partial<GrpoLossPartValues>[];
  grads: Map<string, tf.Tensor>; // the caller's to dispose
  /** [B, C] the share's rows filled (NaN elsewhere), when the step had no oldLogprobs. */
  logprobs?: Float32Array;
}

/**
 * Loss and gradients of some of a step's micro-batches (`micro`, the first being the step's
 * micro-batch `firstIndex`), each normalised by the whole step's `counts`: on the trainer's
 * thread, or in the update worker (update-worker.ts) for the other half.
 */
export async function stepShare(
  model: CausalLM, config: TrainingConfig, step: StepBatch, micro: number[][], firstIndex: number,
  s: StepSettings, counts: StepCounts, threshold: number | undefined, onHost: boolean,
): Promise<ShareResult> {
  const { batch } = step;
  const c = batch.completionLength;
  const head = { vocabChunk: s.vocabChunk, entropyGradient: s.entropyCoef !== 0, recompute: s.recompute };
  const q = 1 - config.top_entropy_quantile;
  const sum = new GradientSum(onHost);
  const read = step.oldLogprobs === undefined ? new Float32Array(batch.rows * c).fill(NaN) : undefined;
  let loss = 0;
  const parts: Partial<GrpoLossPartValues>[] = [];
  try {
    for (const [offset, rows] of micro.entries()) {
      const index = firstIndex + offset;
      if (model.lora && s.dropoutSeed !== undefined) model.lora.dropoutSeed = s.dropoutSeed * 1009 + index;
      const whole = rows.length === batch.rows;
      const sub = whole ? batch : selectRows(batch, rows);
      const pick = (values: Float32Array) => (whole ? values : Float32Array.from(rows.flatMap((r) => Array.from(values.subarray(r * c, (r + 1) * c)))));
      const shape: [number, number] = [rows.length, c];
      let kept: ReturnType<typeof grpoLoss>['parts'] | undefined;
      let readBack: tf.Tensor | undefined;
      const g = lossAndGradients(model.trainable, () => {
        const { logp, entropy } = completionLogprobsAndEntropy(model, sub, s.temperature, head);
        if (q > 0 && whole && threshold === undefined) threshold = entropyThresholdInto(entropy.dataSync() as Float32Array, step.mask, q, counts); // a [B, C] read
        // Kept past the tape and read after it with data(), which every backend has.
        if (read) readBack = tf.keep(tf.clone(logp));
        const out = grpoLoss(
          {
            logp,
            entropy,
            oldLogp: step.oldLogprobs ? tf.tensor2d(pick(step.oldLogprobs), shape) : stopGradient(logp),
            refLogp: s.beta > 0 ? tf.tensor2d(pick(step.refLogprobs!), shape) : undefined,
            advantages: tf.tensor1d(rows.map((r) => step.advantages[r]), 'float32'),
            mask: tf.tensor2d(pick(step.mask), shape),
          },
          {
            lossType: config.loss_type,
            importanceSamplingLevel: config.importance_sampling_level,
            epsilonLow: config.epsilon,
            epsilonHigh: config.epsilon_high,
            delta: config.delta,
            beta: s.beta,
            klBiasCorrection: config.use_bias_correction_kl,
            maxCompletionLength: config.max_new_tokens,
            batchTokenCount: s.batchTokenCount,
            stepsPerBatch: s.stepsPerBatch,
            step: counts,
            entropyThreshold: threshold,
            entropyCoef: s.entropyCoef,
          },
        );
        kept = out.parts;
        return out.loss;
      });
      if (readBack) {
        read!.set((await readBack.data()) as Float32Array, rows[0] * c); // micro-batches are consecutive rows
        readBack.dispose();
      }
      loss += (await g.loss.data())[0];
      g.loss.dispose();
      parts.push(await readLossParts(kept!));
      await sum.add(g.grads);
    }
  } catch (e) {
    sum.dispose();
    throw e;
  } finally {
    if (model.lora) model.lora.dropoutSeed = undefined; // sampling and scoring never drop out
  }
  return { loss, parts, grads: sum.result(), logprobs: read };
}

/**
 * The sum of a step's micro-batch gradients, on the backend, or in host memory where the
 * backend has no room for a second model-sized set (each micro-batch's gradients are read
 * back and freed; the sum goes up once, for the optimizer).
 */
class GradientSum {
  private device: Map<string, tf.Tensor> | undefined;
  private readonly host = new Map<string, { values: Float32Array; shape: number[] }>();

  constructor(private readonly onHost: boolean) {}

  /** Adds `grads`, which it takes over. */
  async add(grads: Map<string, tf.Tensor>): Promise<void> {
    if (!this.onHost) {
      if (!this.device) {
        this.device = grads;
        return;
      }
      for (const [name, g] of grads) {
        const total = tf.add(this.device.get(name)!, g);
        tf.dispose([this.device.get(name)!, g]);
        this.device.set(name, total);
      }
      return;
    }
    for (const [name, g] of grads) {
      const values = (await g.data()) as Float32Array;
      const acc = this.host.get(name);
      if (acc) for (let i = 0; i < values.length; i++) acc.values[i] += values[i];
      else this.host.set(name, { values: Float32Array.from(values), shape: g.shape });
      g.dispose();
    }
  }

  /** The sum as tensors, the caller's to dispose. */
  result(): Map<string, tf.Tensor> {
    if (!this.onHost) return this.device!;
    return new Map([...this.host].map(([name, x]) => [name, tf.tensor(x.values, x.shape, 'float32')]));
  }

  dispose(): void {
    if (this.device) tf.dispose([...this.device.values()]);
    this.host.clear();
  }
}

/** The current policy's entropy at every completion position of the step, [B * C], without a tape. */
async function stepEntropies(model: CausalLM, batch: SequenceBatch, micro: number[][], temperature: number, vocabChunk: number): Promise<Float32Array> {
  const c = batch.completionLength;
  const out = new Float32Array(batch.rows * c);
  for (const rows of micro) {
    const h = tf.tidy(() => completionLogprobsAndEntropy(model, rows.length === batch.rows ? batch : selectRows(batch, rows), temperature, { vocabChunk }).entropy);
    out.set((await h.data()) as Float32Array, rows[0] * c);
    h.dispose();
  }
  return out;
}

/** The entropy threshold of quantile `q`, with the tokens at or above it counted into `counts`. */
function entropyThresholdInto(entropy: Float32Array, mask: Float32Array, q: number, counts: StepCounts): number {
  const threshold = entropyThreshold(entropy, mask, q) ?? Infinity; // no token counts: none keeps the term
  counts.bonusTokens = tokensAtOrAbove(entropy, mask, threshold);
  return threshold;
}

function countActive(mask: Float32Array): number {
  let n = 0;
  for (const m of mask) if (m > 0) n++;
  return n;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
