// Our GRPO numbers against TRL's own (test/fixtures/trl/make_trl_goldens.py ran TRL's
// GRPOTrainer on the same fixed batches and the same tiny model): advantages, the loss and
// every parameter's gradient of each optimizer step, each step's statistics, and every metric
// TRL logs for the batch under the name it logs it. The committed goldens are checked always;
// where a Python with TRL is at hand (.ci/run makes one), TRL is run afresh and checked too.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { freshTrlGoldens } from './helpers/trl-python';
import { loadCausalLM } from '../src/model/load';
import type { CausalLM } from '../src/model/causal-lm';
import { isLinearWeight } from '../src/model/params';
import { readSafetensors, type TensorData } from '../src/model/safetensors';
import { computeAdvantages, normalizeThenSum } from '../src/trainer/advantages';
import { maskTruncatedCompletions } from '../src/trainer/completion-mask';
import { parseTrainingConfig, type TrainingConfig } from '../src/trainer/config';
import { EntropyBonus } from '../src/trainer/entropy-bonus';
import { iterationMetrics } from '../src/trainer/iteration-metrics';
import type { GrpoLossStatValues } from '../src/trainer/loss';
import { stepLossAndGradients } from '../src/trainer/policy-step';
import type { UpdateSummary } from '../src/trainer/policy-update';
import type { Rollout } from '../src/trainer/rollout';
import { packSequences, selectRows } from '../src/trainer/sequence-batch';
import { StepMeans } from '../src/trainer/step-means';
import { weightedTotal, type RewardScores } from '../src/rewards/scores';

useTestBackend();

const COMMITTED = join(__dirname, 'fixtures', 'trl');

// float32 on both sides, different summation orders and kernels.
const VALUE_TOL = { atol: 1e-5, rtol: 1e-4 };
const GRAD_TOL = { atol: 1e-6, rtol: 2e-4 }; // rtol against the tensor's largest entry

interface GoldenStep {
  rows: number[];
  loss: number;
  metrics: Record<string, number>;
}
interface GoldenCase {
  name: string;
  config: Record<string, unknown>;
  rewards: (number | null)[][];
  old_logprobs: number[][];
  ref_logprobs: number[][] | null;
  advantages: number[];
  num_items_in_batch: number;
  steps: GoldenStep[];
  logged: Record<string, number | null>;
}
interface Goldens {
  generated_by: string;
  prompts: number[][];
  completions: number[][];
  group_size: number;
  eos_token_id: number;
  pad_token_id: number;
  cases: GoldenCase[];
}

function close(actual: number, expected: number, what: string, tol = VALUE_TOL): void {
  assert.ok(Number.isFinite(actual), `${what}: got ${actual}, expected ${expected}`);
  assert.ok(Math.abs(actual - expected) <= tol.atol + tol.rtol * Math.abs(expected), `${what}: got ${actual}, TRL ${expected}`);
}

/** The case's TRL settings as a grpo.config.json would hold them: TRL's names where ours read them. */
function ourConfig(g: Goldens, c: GoldenCase): TrainingConfig {
  // Settings of TRL's run that have no counterpart in a config here: logging, device, seed.
  const { steps_per_generation, reward_weights, report_to, logging_steps, use_cpu, bf16, fp16, seed, ...trlNamed } = c.config;
  void [report_to, logging_steps, use_cpu, bf16, fp16, seed];
  assert.equal(Number(steps_per_generation) * Number(c.config.per_device_train_batch_size), g.completions.length, 'one generation batch per rollout');
  const weights = (reward_weights as number[] | undefined) ?? c.rewards.map(() => 1);
  return parseTrainingConfig(
    {
      ...trlNamed, // beta, num_generations, max_completion_length, per_device_train_batch_size: TRL's names
      model_path: 'model',
      dataset_path: 'prompts.jsonl',
      rewards: weights.map((weight, i) => ({ file: `r${i}.ts`, weight })),
      rollout_batch_size: g.prompts.length,
    },
    `${c.name} (TRL case)`,
  );
}

function scoresOf(c: GoldenCase, config: TrainingConfig): RewardScores {
  const functions = c.rewards.map((values, i) => ({
    name: `r${i}`,
    file: `r${i}.ts`,
    version: 'v',
    weight: config.rewards[i].weight,
    values: Float64Array.from(values, (v) => (v === null ? NaN : v)),
    errors: [],
  }));
  return { functions, total: weightedTotal(functions, c.rewards[0].length), logs: [], metrics: {} };
}

const SPLITS = [
  { microRows: 4, vocabChunk: 64 },
  { microRows: 1, vocabChunk: 16 },
];

// TRL's step metric names -> our step statistics.
const STEP_STATS: Record<string, keyof GrpoLossStatValues> = {
  entropy: 'entropyMean',
  kl: 'klMean',
  'clip_ratio/low_mean': 'clipLowMean',
  'clip_ratio/high_mean': 'clipHighMean',
  'clip_ratio/region_mean': 'clipRegionMean',
  'clip_ratio/low_min': 'clipLowMin',
  'clip_ratio/high_max': 'clipHighMax',
  cispo_clip_ratio: 'cispoClipRatio',
  policy_loss: 'policyLoss',
};

function hfGrad(name: string, g: tf.Tensor): Float32Array {
  return tf.tidy(() => (isLinearWeight(name) ? tf.transpose(g) : g).dataSync() as Float32Array);
}

function checkGoldens(label: string, load: () => Promise<{ g: Goldens; grads: Map<string, TensorData>; modelDir: string }>): void {
  describe(`TRL parity: ${label}`, () => {
    let g: Goldens;
    let grads: Map<string, TensorData>;
    let model: CausalLM;
    before(async () => {
      const loaded = await load();
      g = loaded.g;
      grads = loaded.grads;
      model = await loadCausalLM(loaded.modelDir);
    });

    it('covers every loss type, scaling, aggregation and option', () => {
      const names = g.cases.map((c) => c.name);
      for (const n of ['dapo', 'grpo_kl_batch', 'bnpo_none_tempered', 'dr_grpo_masked', 'cispo', 'gspo', 'delta', 'entropy', 'adaptive_entropy', 'normalize_then_sum']) {
        assert.ok(names.includes(n), `case ${n}`);
      }
    });

    // Cases are read lazily: the goldens load in `before`.
    // The step whole with the head over the whole vocabulary; and split into micro-batches of
    // one completion with the head in slices of 16 tokens, as memory-plan.ts splits large runs.
    for (const [name, split] of caseNames().flatMap((n) => SPLITS.map((sp) => [n, sp] as const))) {
      it(`${name} (micro-batches of ${split.microRows}, head slices of ${split.vocabChunk}): advantages, each step's loss, gradients and statistics, and the logged metrics equal TRL's`, async () => {
        const c = g.cases.find((x) => x.name === name)!;
        const config = ourConfig(g, c);
        const scores = scoresOf(c, config);
        const advantages =
          config.multi_objective_aggregation === 'normalize_then_sum'
            ? normalizeThenSum(scores.functions, config.group_size)
            : computeAdvantages(scores.total, config.group_size, config.scale_rewards);
        c.advantages.forEach((a, i) => close(advantages.advantages[i], a, `advantage ${i}`));

        const groupOf = (r: number) => Math.floor(r / g.group_size);
        const batch = packSequences(g.completions.map((_, r) => g.prompts[groupOf(r)]), g.completions, g.pad_token_id);
        const C = batch.completionLength;
        const flat = (m: number[][]) => Float32Array.from(m.flatMap((row) => row.slice(0, C)));
        const truncated = g.completions.map((ids) => ids[ids.length - 1] !== g.eos_token_id);
        const mask = config.mask_truncated_completions ? maskTruncatedCompletions(batch.completionMask, C, truncated) : batch.completionMask;
        const batchTokens = mask.reduce((s, x) => s + x, 0);
        assert.equal(batchTokens, c.num_items_in_batch, 'tokens in the loss');
        const old = flat(c.old_logprobs);
        const ref = c.ref_logprobs ? flat(c.ref_logprobs) : undefined;
        const pick = (values: Float32Array, rowsOf: number[]) => Float32Array.from(rowsOf.flatMap((r) => Array.from(values.subarray(r * C, (r + 1) * C))));

        const bonus = new EntropyBonus(config);
        const perStep = new StepMeans();
        for (const [s, step] of c.steps.entries()) {
          const result = await stepLossAndGradients(
            model,
            config,
            {
              batch: selectRows(batch, step.rows),
              oldLogprobs: pick(old, step.rows),
              refLogprobs: ref ? pick(ref, step.rows) : undefined,
              advantages: step.rows.map((r) => advantages.advantages[r]),
              mask: pick(mask, step.rows),
            },
            {
              temperature: config.temperature,
              beta: config.kl_coef,
              batchTokenCount: batchTokens,
              stepsPerBatch: c.steps.length,
              entropyCoef: bonus.enabled ? bonus.applied() : 0,
              ...split,
            },
          );
          try {
            close(result.loss, step.loss, `step ${s} loss`);
            for (const [pname, grad] of result.grads) {
              const golden = grads.get(`${c.name}/${s}/${pname}`);
              assert.ok(golden, `TRL gradient of ${pname}`);
              const ours = hfGrad(pname, grad);
              const scale = golden.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
              let worst = 0;
              ours.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - golden.data[i]))));
              assert.ok(worst <= GRAD_TOL.atol + GRAD_TOL.rtol * scale, `step ${s} gradient of ${pname}: max difference ${worst} (largest entry ${scale})`);
            }
          } finally {
            tf.dispose([...result.grads.values()]);
          }
          const values = result.stats;
          bonus.afterStep(values.bonusEntropyMean);
          for (const [trlName, expected] of Object.entries(step.metrics)) {
            if (trlName === 'entropy_coef') close(bonus.current, expected, `step ${s} entropy_coef`);
            else close(values[STEP_STATS[trlName]]!, expected, `step ${s} ${trlName}`);
          }
          const ourStats = Object.entries(STEP_STATS).filter(([, ours]) => values[ours] !== undefined).map(([trl]) => trl);
          for (const trlName of ourStats) {
            if (trlName !== 'policy_loss' || bonus.enabled) assert.ok(trlName in step.metrics, `step ${s}: we report ${trlName}, TRL does not`);
          }
          perStep.add({ ...values, loss: result.loss, entropyCoef: bonus.current });
        }

        // The iteration's metrics.jsonl line, from the same pieces the trainer assembles it from.
        const means = perStep.means();
        const { loss, entropyCoef, ...statMeans } = means;
        const update: UpdateSummary = { means: statMeans, loss: loss!, gradNorm: NaN, entropyCoef: entropyCoef!, steps: c.steps.length, skipped: 0, consecutiveSkipped: 0, seconds: 1 };
        const rollout = {
          samples: g.completions.map((ids, r) => ({ rowIndex: groupOf(r), group: groupOf(r), member: r % g.group_size, prompt: '', completion: '', completionIds: ids, finishReason: truncated[r] ? 'length' : 'eos' })),
          batch,
          promptLengths: g.prompts.map((p) => p.length),
          oldLogprobs: old,
          refLogprobs: ref,
          generateSeconds: 1,
          scoreSeconds: 1,
        } as Rollout;
        const numTokens = rollout.samples.reduce((n, smp) => n + g.prompts[smp.group].length + smp.completionIds.length, 0);
        const line = iterationMetrics(
          {
            iteration: 1,
            epoch: 0,
            learningRate: 1e-6,
            klCoef: config.kl_coef,
            entropyBonus: bonus.enabled,
            clippedLoss: config.loss_type !== 'cispo',
            numTokens,
            rewardSeconds: 0,
            iterationSeconds: 1,
          },
          rollout,
          scores,
          advantages,
          update,
        );
        for (const [name, expected] of Object.entries(c.logged)) {
          assert.ok(name in line, `TRL logs ${name}; we do not`);
          if (expected === null) assert.ok(!Number.isFinite(line[name] as number), `${name}: TRL logs none`);
          else close(line[name] as number, expected, `logged ${name}`);
        }
      });
    }
  });
}

/** The case names, known before the goldens load (from the committed file). */
function caseNames(): string[] {
  return (JSON.parse(readFileSync(join(COMMITTED, 'goldens.json'), 'utf8')) as Goldens).cases.map((c) => c.name);
}

async function readGoldens(dir: string): Promise<{ g: Goldens; grads: Map<string, TensorData>; modelDir: string }> {
  const g = JSON.parse(readFileSync(join(dir, 'goldens.json'), 'utf8')) as Goldens;
  return { g, grads: await readSafetensors(join(dir, 'grads.safetensors')), modelDir: join(dir, 'model') };
}

checkGoldens('committed goldens', () => readGoldens(COMMITTED));

const fresh = freshTrlGoldens(join(COMMITTED, 'make_trl_goldens.py'));
if (fresh.dir) checkGoldens(`TRL run now (${fresh.python})`, () => readGoldens(fresh.dir!));
else it(`TRL parity against TRL run now: skipped (${fresh.reason})`, () => {});
