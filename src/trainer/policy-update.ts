import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/causal-lm';
import { Rng } from '../model/rng';
import type { TrainingConfig } from './config';
import type { EntropyBonus } from './entropy-bonus';
import type { GrpoLossStatValues } from './loss';
import type { MemoryPlan } from './memory-plan';
import type { AdamW } from './optimizer';
import type { Rollout } from './rollout';
import { stepLossAndGradients, type StepBatch, type UpdateShareRunner } from './policy-step';
import { selectRows } from './sequence-batch';
import { StepMeans } from './step-means';

/**
 * What one iteration's updates did. Each value is the mean over its optimizer steps of that
 * step's value, NaN steps left out, as TRL averages what it logs between two log lines.
 */
export interface UpdateSummary {
  /** Per-step means of the loss statistics (loss.ts), by stat name; absent when no step had it. */
  means: Partial<GrpoLossStatValues>;
  loss: number; // the minimised loss, the entropy bonus included
  gradNorm: number; // mean pre-clip norm of the applied steps
  entropyCoef: number; // the bonus coefficient after each step, averaged (it moves under use_adaptive_entropy)
  steps: number; // optimizer steps applied
  skipped: number; // steps skipped for NaN/Inf
  consecutiveSkipped: number; // skipped steps at the end of this iteration, in a row
  seconds: number;
}

export interface UpdateInput {
  rollout: Rollout;
  advantages: Float64Array; // one per sample
  mask: Float32Array; // [rows, C]: the rollout's completion mask, less masked truncated completions
  learningRate: number;
  klCoef: number;
  temperature: number;
  entropyBonus: EntropyBonus;
  plan: Pick<MemoryPlan, 'microRows' | 'vocabChunk' | 'hostMoments' | 'recompute'>;
  seed: number; // shuffles minibatches; per iteration, so a resumed run shuffles alike
  consecutiveSkippedBefore: number;
  /** Half of each step's micro-batches on the other core (update-worker.ts). */
  parallel?: UpdateShareRunner;
}

/**
 * ppo_epochs passes over the rollout in shuffled minibatches, one AdamW step each. Each step
 * recomputes the current policy's log-probabilities and entropies, so from the second step on
 * the ratio to the rollout policy is real.
 */
export async function updatePolicy(model: CausalLM, optimizer: AdamW, config: TrainingConfig, u: UpdateInput): Promise<UpdateSummary> {
  const started = performance.now();
  const { batch, oldLogprobs, refLogprobs } = u.rollout;
  const c = batch.completionLength;
  const rows = batch.rows;
  let batchTokens = 0;
  for (const m of u.mask) batchTokens += m;
  const stepsPerBatch = Math.ceil(rows / config.minibatch_size);
  const rng = Rng.derive(u.seed, 0x5eed);
  const perStep = new StepMeans();
  let gradNormSum = 0;
  let steps = 0;
  let skipped = 0;
  let consecutive = u.consecutiveSkippedBefore;
  const useRef = u.klCoef > 0 && refLogprobs !== undefined;
  const oldFromStep = u.rollout.oldFromUpdate;
  if (oldFromStep && (config.ppo_epochs !== 1 || config.minibatch_size !== rows)) {
    throw new Error(`old log-probabilities can come from the update only when it makes one step (ppo_epochs ${config.ppo_epochs}, minibatch_size ${config.minibatch_size}, ${rows} completions)`);
  }

  for (let epoch = 0; epoch < config.ppo_epochs; epoch++) {
    const order = rng.permutation(rows);
    for (let start = 0; start < rows; start += config.minibatch_size) {
      const pick = order.slice(start, start + config.minibatch_size);
      const gather = (values: Float32Array) => {
        const out = new Float32Array(pick.length * c);
        pick.forEach((r, i) => out.set(values.subarray(r * c, (r + 1) * c), i * c));
        return out;
      };
      const step: StepBatch = {
        batch: selectRows(batch, pick),
        oldLogprobs: oldFromStep ? undefined : gather(oldLogprobs),
        refLogprobs: useRef ? gather(refLogprobs!) : undefined,
        advantages: pick.map((r) => u.advantages[r]),
        mask: gather(u.mask),
      };
      const result = await stepLossAndGradients(model, config, step, {
        temperature: u.temperature,
        beta: useRef ? u.klCoef : 0,
        batchTokenCount: batchTokens,
        stepsPerBatch,
        entropyCoef: u.entropyBonus.enabled ? u.entropyBonus.applied() : 0,
        microRows: u.plan.microRows,
        vocabChunk: u.plan.vocabChunk,
        recompute: u.plan.recompute,
        hostGradients: u.plan.hostMoments,
        dropoutSeed: config.seed * 1_000_003 + optimizer.step,
        parallel: u.parallel,
      });
      if (result.logprobs) pick.forEach((r, i) => oldLogprobs.set(result.logprobs!.subarray(i * c, (i + 1) * c), r * c));
      try {
        const applied = await optimizer.update(result.grads, u.learningRate);
        if (applied.applied) {
          steps++;
          consecutive = 0;
          gradNormSum += applied.gradNorm;
          u.entropyBonus.afterStep(result.stats.bonusEntropyMean);
        } else {
          skipped++;
          consecutive++;
        }
        perStep.add({ ...result.stats, loss: result.loss, entropyCoef: u.entropyBonus.current });
      } finally {
        tf.dispose([...result.grads.values()]);
      }
    }
  }
  const { loss, entropyCoef, ...statMeans } = perStep.means();
  return {
    means: statMeans,
    loss: loss ?? NaN,
    gradNorm: steps > 0 ? gradNormSum / steps : NaN,
    entropyCoef: entropyCoef ?? u.entropyBonus.current,
    steps,
    skipped,
    consecutiveSkipped: consecutive,
    seconds: (performance.now() - started) / 1000,
  };
}
