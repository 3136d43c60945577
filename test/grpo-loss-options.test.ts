// The loss options TRL users reach for (GSPO, two-sided clipping, CISPO, the entropy mask and
// bonus), against formulas computed here in float64. TRL's own numbers for the same options
// are compared in trl-parity.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { combineLossParts, grpoLoss, readLossParts, type GrpoLossOptions } from '../src/trainer/loss';
import { entropyThreshold, quantile } from '../src/trainer/entropy-mask';
import { tokenEntropy } from '../src/trainer/token-entropy';
import { stopGradient } from '../src/engine/stop-gradient';

useTestBackend();

const TOL = 1e-5;
function close(actual: number, expected: number, what: string, tol = TOL): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

const LOGP = [[-1.0, -0.5, -2.0], [-0.7, -1.2, -3.0]];
const OLD = [[-1.1, -0.9, -1.9], [-0.4, -1.25, -0.1]];
const ADV = [1.5, -0.8];
const MASK = [[1, 1, 1], [1, 1, 0]];
const ENTROPY = [[0.3, 2.0, 1.1], [0.9, 0.05, 7]];

function options(extra: Partial<GrpoLossOptions>): GrpoLossOptions {
  return {
    lossType: 'bnpo',
    importanceSamplingLevel: 'token',
    epsilonLow: 0.2,
    epsilonHigh: 0.28,
    beta: 0,
    klBiasCorrection: false,
    maxCompletionLength: 3,
    stepsPerBatch: 1,
    entropyCoef: 0,
    ...extra,
  };
}

/** Loss, its gradient with respect to logp and entropy, and the stats. */
async function run(opts: GrpoLossOptions, logp = LOGP) {
  const lp = tf.tensor2d(logp);
  const h = tf.tensor2d(ENTROPY);
  const fixed = { oldLogp: tf.tensor2d(OLD), advantages: tf.tensor1d(ADV), mask: tf.tensor2d(MASK) };
  let parts;
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => {
    const out = grpoLoss({ ...fixed, logp: a as tf.Tensor2D, entropy: b as tf.Tensor2D }, opts);
    parts = out.parts;
    // + 0 x H: valueAndGrads needs y to depend on every x; without a bonus dH is then 0.
    return tf.add(out.loss, tf.mul(tf.sum(b), 0)) as tf.Scalar;
  })([lp, h]);
  const result = { loss: value.dataSync()[0], dLogp: grads[0].arraySync() as number[][], dEntropy: grads[1].arraySync() as number[][], stats: combineLossParts([await readLossParts(parts!)], opts.importanceSamplingLevel === 'sequence') };
  tf.dispose([value, ...grads, lp, h, ...Object.values(fixed)]);
  return result;
}

const tokensOf = (b: number) => MASK[b].reduce((s, x) => s + x, 0);
const activeTokens = MASK.flat().reduce((s, x) => s + x, 0);

describe('importance_sampling_level "sequence" (GSPO)', () => {
  it('uses one ratio per completion, exp(mean log-ratio), clipped as a whole', async () => {
    const out = await run(options({ lossType: 'grpo', importanceSamplingLevel: 'sequence' }));
    const w = LOGP.map((row, b) => Math.exp(row.reduce((s, x, t) => s + MASK[b][t] * (x - OLD[b][t]), 0) / tokensOf(b)));
    const pg = w.map((wb, b) => -Math.min(wb * ADV[b], Math.min(Math.max(wb, 0.8), 1.28) * ADV[b]));
    // grpo: each completion's per-token mean of a constant term is the term itself.
    close(out.loss, (pg[0] + pg[1]) / 2, 'loss');
    close(out.stats.ratioMean!, (w[0] + w[1]) / 2, 'mean ratio over completions');
    // Unclipped completions: d/dlogp[b,t] of -w_b A_b / 2 is -w_b A_b / (2 n_b) on each active token.
    for (let b = 0; b < 2; b++) {
      const clipped = (ADV[b] > 0 && w[b] > 1.28) || (ADV[b] < 0 && w[b] < 0.8);
      for (let t = 0; t < 3; t++) {
        const expected = MASK[b][t] === 0 || clipped ? 0 : (-w[b] * ADV[b]) / (2 * tokensOf(b));
        close(out.dLogp[b][t], expected, `gradient [${b},${t}]`);
      }
    }
  });
});

describe('delta (two-sided clipping)', () => {
  it('caps the unclipped ratio at delta, so a negative advantage cannot push a ratio without bound', async () => {
    // Row 1 token 3 is masked; row 1 token 2 has ratio e^2.9 with A < 0: unbounded without delta.
    const logp = [[-1.0, -0.5, -2.0], [-0.7, 1.8, -3.0]];
    const plain = await run(options({}), logp);
    const capped = await run(options({ delta: 3 }), logp);
    const r = Math.exp(1.8 - -1.25);
    assert.ok(r > 3);
    close(capped.loss - plain.loss, (-3 * ADV[1] - -r * ADV[1]) / activeTokens, 'the capped token adds -3 A instead of -r A');
    assert.equal(capped.dLogp[1][1], 0, 'a capped ratio has no gradient');
    assert.notEqual(plain.dLogp[1][1], 0);
  });
});

describe('loss_type "cispo"', () => {
  it('is -sg(min(w, epsilon_high)) A logp: the weight is clipped and not differentiated', async () => {
    const epsilonHigh = 1.3;
    const n = 11;
    const out = await run(options({ lossType: 'cispo', epsilonHigh, batchTokenCount: n, stepsPerBatch: 1 }));
    let sum = 0;
    LOGP.forEach((row, b) =>
      row.forEach((lp, t) => {
        const w = Math.min(Math.exp(lp - OLD[b][t]), epsilonHigh);
        sum += MASK[b][t] * -w * ADV[b] * lp;
        close(out.dLogp[b][t], MASK[b][t] * (-w * ADV[b]) / n, `gradient [${b},${t}] is -sg(w) A / N`);
      }),
    );
    close(out.loss, sum / n, 'loss');
    // Row 0 (A > 0) has ratios e^0.1, e^0.4 (> 1.3), e^-0.1: one of five active tokens is clipped.
    close(out.stats.cispoClipRatio!, 1 / activeTokens, 'cispo_clip_ratio');
    assert.equal(out.stats.clipLowMean, undefined);
  });

  it('stopGradient passes values and stops gradients', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(stopGradient(a), a)))(x);
    assert.deepEqual(Array.from(g.dataSync()), [1, 2, 3]); // d/da (c a) with c = a held constant
    tf.dispose([x, g]);
  });
});

describe('top_entropy_quantile', () => {
  it('quantile interpolates between order statistics as torch.quantile does', () => {
    close(quantile([3, 1, 2, 4], 0.5), 2.5, 'median of 4');
    close(quantile([3, 1, 2, 4], 0.8), 3.4, 'q 0.8');
    assert.equal(quantile([5], 0.3), 5);
  });

  it('keeps the policy term only on tokens at or above the (1 - rho) entropy quantile of active tokens', async () => {
    const rho = 0.4;
    const active = ENTROPY.flatMap((row, b) => row.filter((_, t) => MASK[b][t] > 0));
    const threshold = quantile(active, 1 - rho);
    close(entropyThreshold(Float32Array.from(ENTROPY.flat()), Float32Array.from(MASK.flat()), 1 - rho)!, threshold, 'threshold from float32 entropies');
    const out = await run(options({ entropyThreshold: threshold }));
    const full = await run(options({}));
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        const kept = MASK[b][t] > 0 && ENTROPY[b][t] >= threshold;
        close(out.dLogp[b][t], kept ? full.dLogp[b][t] : 0, `gradient [${b},${t}] (entropy ${ENTROPY[b][t]}, threshold ${threshold})`);
      }
    }
    // The masked-out entropy of 7 is a padding position: never kept, however high.
    assert.equal(out.dLogp[1][2], 0);
  });
});

describe('entropy bonus', () => {
  it('subtracts entropy_coef x the masked mean entropy, with its gradient -coef / n per active token', async () => {
    const coef = 0.05;
    const out = await run(options({ entropyCoef: coef }));
    const plain = await run(options({}));
    const meanH = ENTROPY.flat().reduce((s, h, i) => s + h * MASK.flat()[i], 0) / activeTokens;
    close(out.loss, plain.loss - coef * meanH, 'loss');
    close(out.stats.policyLoss!, plain.loss, 'policy_loss excludes the bonus');
    ENTROPY.forEach((row, b) => row.forEach((_, t) => close(out.dEntropy[b][t], MASK[b][t] ? -coef / activeTokens : 0, `d loss / d H [${b},${t}]`)));
    plain.dEntropy.flat().forEach((g) => assert.equal(g, 0));
  });

  it('tokenEntropy has the gradient -p (log p + H), checked against finite differences', () => {
    const z = [0.4, -1.2, 2.0, 0.1];
    const x = tf.tensor3d([[z]]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tokenEntropy(a as tf.Tensor3D)))(x).dataSync();
    const H = (v: number[]) => {
      const e = v.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return -e.reduce((acc, ei) => acc + (ei / s) * Math.log(ei / s), 0);
    };
    z.forEach((_, i) => {
      const h = 1e-4;
      const up = [...z];
      const down = [...z];
      up[i] += h;
      down[i] -= h;
      close(g[i], (H(up) - H(down)) / (2 * h), `dH/dz[${i}]`, 1e-3);
    });
    x.dispose();
  });
});
