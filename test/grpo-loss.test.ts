// The GRPO loss against numbers computed here in plain double-precision JS, independently of
// the tensor code. The loss runs in float32, so values agree to about 1e-6 relative.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { combineLossParts, grpoLoss, readLossParts, type GrpoLossOptions } from '../src/trainer/loss';
import { maskTruncatedCompletions } from '../src/trainer/completion-mask';
import { tokenEntropy } from '../src/trainer/token-entropy';
import type { LossType } from '../src/trainer/config';

useTestBackend();

const TOL = 1e-5; // float32 sums of a few terms of size ~1

function close(actual: number, expected: number, what: string, tol = TOL): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected} (tol ${tol})`);
}

/** A minibatch as plain arrays: [B][T] per-token values, one advantage per row. */
interface Case {
  logp: number[][];
  entropy?: number[][]; // zeros when absent
  oldLogp: number[][];
  refLogp?: number[][];
  advantages: number[];
  mask: number[][];
}

const EPS_LOW = 0.2;
const EPS_HIGH = 0.28;

function options(lossType: LossType, extra: Partial<GrpoLossOptions> = {}): GrpoLossOptions {
  return {
    lossType,
    importanceSamplingLevel: 'token',
    epsilonLow: EPS_LOW,
    epsilonHigh: EPS_HIGH,
    beta: 0,
    klBiasCorrection: false,
    maxCompletionLength: 5,
    stepsPerBatch: 1,
    entropyCoef: 0,
    ...extra,
  };
}

/** The per-token loss l[b][t] of the formula, in float64. */
function referencePerToken(c: Case, opts: GrpoLossOptions): number[][] {
  return c.logp.map((row, b) =>
    row.map((lp, t) => {
      const r = Math.exp(lp - c.oldLogp[b][t]);
      const a = c.advantages[b];
      const clipped = Math.min(Math.max(r, 1 - opts.epsilonLow), 1 + opts.epsilonHigh);
      const pg = -Math.min(r * a, clipped * a);
      if (!c.refLogp) return pg;
      const d = c.refLogp[b][t] - lp;
      return pg + opts.beta * (Math.exp(d) - d - 1);
    }),
  );
}

function referenceLoss(c: Case, opts: GrpoLossOptions): number {
  const l = referencePerToken(c, opts);
  const B = c.logp.length;
  const rowSum = l.map((row, b) => row.reduce((s, x, t) => s + x * c.mask[b][t], 0));
  const rowTokens = c.mask.map((row) => row.reduce((s, x) => s + x, 0));
  const total = rowSum.reduce((s, x) => s + x, 0);
  const tokens = rowTokens.reduce((s, x) => s + x, 0);
  switch (opts.lossType) {
    case 'grpo':
      return rowSum.reduce((s, x, b) => s + x / Math.max(rowTokens[b], 1), 0) / B;
    case 'bnpo':
      return total / Math.max(tokens, 1);
    case 'dr_grpo':
      return total / (B * opts.maxCompletionLength);
    case 'dapo':
    case 'cispo':
      return total / (Math.max(opts.batchTokenCount!, 1) / opts.stepsPerBatch!);
  }
}

function tensors(c: Case) {
  return {
    logp: tf.tensor2d(c.logp),
    entropy: c.entropy ? tf.tensor2d(c.entropy) : tf.zeros([c.logp.length, c.logp[0].length]) as tf.Tensor2D,
    oldLogp: tf.tensor2d(c.oldLogp),
    refLogp: c.refLogp ? tf.tensor2d(c.refLogp) : undefined,
    advantages: tf.tensor1d(c.advantages),
    mask: tf.tensor2d(c.mask),
  };
}

/** Loss value and d loss / d logp, with every tensor freed. */
function lossAndGrad(c: Case, opts: GrpoLossOptions): { loss: number; grad: number[][] } {
  const inputs = tensors(c);
  const { value, grad } = tf.valueAndGrad((logp: tf.Tensor) => {
    const { loss, parts } = grpoLoss({ ...inputs, logp: logp as tf.Tensor2D }, opts);
    tf.dispose(Object.values(parts));
    return loss;
  })(inputs.logp);
  const out = { loss: value.dataSync()[0], grad: grad.arraySync() as number[][] };
  tf.dispose([value, grad, ...Object.values(inputs)]);
  return out;
}

async function lossAndStats(c: Case, opts: GrpoLossOptions) {
  const inputs = tensors(c);
  const { loss, parts } = grpoLoss(inputs, opts);
  const value = (await loss.data())[0];
  tf.dispose([loss, ...Object.values(inputs)]);
  return { loss: value, stats: combineLossParts([await readLossParts(parts)], opts.importanceSamplingLevel === 'sequence') };
}

// Two completions of unequal length (the second padded by one token), off-policy enough that
// some ratios leave the band, with a reference for the KL term.
const SMALL: Case = {
  logp: [[-1.0, -0.5, -2.0], [-0.7, -1.2, -3.0]],
  oldLogp: [[-1.1, -0.9, -1.9], [-0.4, -1.25, -0.1]],
  refLogp: [[-0.9, -0.6, -2.2], [-0.8, -1.0, -5.0]],
  advantages: [1.5, -0.8],
  mask: [[1, 1, 1], [1, 1, 0]],
};

describe('grpoLoss normalisation per loss_type', () => {
  const cases: [LossType, Partial<GrpoLossOptions>][] = [
    ['grpo', {}],
    ['bnpo', {}],
    ['dr_grpo', { maxCompletionLength: 5 }],
    ['dapo', { batchTokenCount: 11 }],
  ];
  for (const [lossType, extra] of cases) {
    it(`${lossType} matches the formula computed in float64`, () => {
      const opts = options(lossType, { beta: 0.1, ...extra });
      close(lossAndGrad(SMALL, opts).loss, referenceLoss(SMALL, opts), lossType);
    });
  }

  it('one token worked by hand: r = e^0.1 inside the band, k3 = e^0.1 - 1.1', () => {
    const c: Case = { logp: [[-1]], oldLogp: [[-1.1]], refLogp: [[-0.9]], advantages: [2], mask: [[1]] };
    // pg = -2 e^0.1 = -2.2103418362; kl = e^0.1 - 0.1 - 1 = 0.0051709181; l = pg + 0.1 kl
    close(lossAndGrad(c, options('bnpo', { beta: 0.1 })).loss, -2.2103418362 + 0.00051709181, 'hand-computed');
  });

  it('with logp == oldLogp (ratio 1) and no KL the loss is minus the advantages averaged per loss_type', () => {
    const c: Case = { ...SMALL, oldLogp: SMALL.logp, refLogp: undefined };
    // Row token counts 3 and 2, advantages 1.5 and -0.8.
    close(lossAndGrad(c, options('grpo')).loss, -(1.5 - 0.8) / 2, 'grpo: -mean(A)');
    close(lossAndGrad(c, options('bnpo')).loss, -(3 * 1.5 - 2 * 0.8) / 5, 'bnpo: -token-weighted mean(A)');
    close(lossAndGrad(c, options('dr_grpo')).loss, -(3 * 1.5 - 2 * 0.8) / (2 * 5), 'dr_grpo');
    close(lossAndGrad(c, options('dapo', { batchTokenCount: 20 })).loss, -(3 * 1.5 - 2 * 0.8) / 20, 'dapo');
  });

  it('normalises each optimizer step as TRL does: grpo and dr_grpo by its own minibatch, dapo by the batch\'s tokens per step', () => {
    const batch: Case = {
      logp: [[-1, -0.5, -2], [-0.7, -1.2, -3], [-0.3, -0.2, -0.9], [-1.5, -2.5, -0.6]],
      oldLogp: [[-1.1, -0.9, -1.9], [-0.4, -1.25, -0.1], [-0.35, -0.1, -1], [-1.4, -2.6, -0.7]],
      refLogp: [[-0.9, -0.6, -2.2], [-0.8, -1, -5], [-0.2, -0.3, -1], [-1.6, -2.4, -0.5]],
      advantages: [1.5, -0.8, 0.3, -1],
      mask: [[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]],
    };
    const half = (rows: number[]): Case => ({
      logp: rows.map((r) => batch.logp[r]),
      oldLogp: rows.map((r) => batch.oldLogp[r]),
      refLogp: rows.map((r) => batch.refLogp![r]),
      advantages: rows.map((r) => batch.advantages[r]),
      mask: rows.map((r) => batch.mask[r]),
    });
    const tokens = 9;
    // Two steps per pass: each step's loss is a full-size loss of its own, so the two add up
    // to twice the whole batch's (whose one step sees every token).
    for (const lossType of ['dapo', 'cispo'] as LossType[]) {
      const opts = options(lossType, { beta: 0.05, batchTokenCount: tokens, epsilonHigh: lossType === 'cispo' ? 5 : EPS_HIGH });
      const whole = lossAndGrad(batch, opts).loss;
      const parts = lossAndGrad(half([0, 2]), { ...opts, stepsPerBatch: 2 }).loss + lossAndGrad(half([1, 3]), { ...opts, stepsPerBatch: 2 }).loss;
      close(parts, 2 * whole, `${lossType}: steps of half the batch`);
    }
    for (const lossType of ['grpo', 'dr_grpo'] as LossType[]) {
      const opts = options(lossType, { beta: 0.05 });
      close(lossAndGrad(half([0, 2]), opts).loss, referenceLoss(half([0, 2]), opts), `${lossType}: a step normalises by its own ${2} completions`);
    }
    // dapo over the whole batch in one step is the plain token mean.
    const dapo = options('dapo', { beta: 0.05, batchTokenCount: tokens });
    close(lossAndGrad(batch, dapo).loss, referenceLoss(batch, options('bnpo', { beta: 0.05 })), 'dapo whole batch = token mean');
  });
});

describe('grpoLoss clipping', () => {
  // One row per case, one token each: log-ratio chosen to put r above or below the band.
  const up = Math.log(1.5); // r = 1.5 > 1 + 0.28
  const down = Math.log(0.5); // r = 0.5 < 1 - 0.2
  const inside = Math.log(1.1);
  const c: Case = {
    logp: [[up], [down], [down], [up], [inside], [inside], [down], [up]],
    oldLogp: [[0], [0], [0], [0], [0], [0], [0], [0]],
    advantages: [2, 2, -2, -2, 2, -2, 1, -1],
    mask: [[1], [1], [1], [1], [1], [1], [1], [1]],
  };

  it('clips r above 1 + epsilon_high for A > 0 and below 1 - epsilon_low for A < 0, with gradient 0 there', () => {
    const { loss, grad } = lossAndGrad(c, options('bnpo'));
    const n = 8;
    // Per row: A>0 r high: clipped to 1.28; A>0 r low: unclipped (min picks r A);
    // A<0 r low: clipped to 0.8; A<0 r high: unclipped (r A is the smaller); inside: unclipped.
    const perToken = [-1.28 * 2, -0.5 * 2, 0.8 * 2, 1.5 * 2, -1.1 * 2, 1.1 * 2, -0.5, 1.5];
    close(loss, perToken.reduce((s, x) => s + x, 0) / n, 'clipped loss');
    // d/dlogp of -r A / n is -r A / n where unclipped.
    const expectedGrad = [0, (-0.5 * 2) / n, 0, (1.5 * 2) / n, (-1.1 * 2) / n, (1.1 * 2) / n, -0.5 / n, 1.5 / n];
    grad.forEach((row, i) => close(row[0], expectedGrad[i], `gradient of row ${i}`));
  });

  it('reports the clipped fractions as TRL defines them', async () => {
    const { stats } = await lossAndStats(c, options('bnpo'));
    // Rows with r out of the band on the unclipped side (A > 0 with r low, A < 0 with r high) do not count.
    close(stats.clipHighMean!, 1 / 8, 'clip_ratio/high_mean');
    close(stats.clipLowMean!, 1 / 8, 'clip_ratio/low_mean');
    close(stats.clipRegionMean!, 2 / 8, 'clip_ratio/region_mean');
    // One token per completion: each completion's own clipped share is 0 or 1.
    assert.equal(stats.clipLowMin, 0);
    assert.equal(stats.clipHighMax, 1);
    close(stats.ratioMean!, (1.5 + 0.5 + 0.5 + 1.5 + 1.1 + 1.1 + 0.5 + 1.5) / 8, 'mean ratio');
    assert.equal(stats.activeTokens, 8);
  });
});

describe('grpoLoss KL term', () => {
  it('is the k3 estimator exp(d) - d - 1 of d = ref - logp: >= 0, 0 where ref == logp, with its gradient', async () => {
    const d = [-2, -0.5, 0, 0.3, 1.7];
    const c: Case = {
      logp: [[0, 0, 0, 0, 0]],
      oldLogp: [[0, 0, 0, 0, 0]],
      refLogp: [d],
      advantages: [0],
      mask: [[1, 1, 1, 1, 1]],
    };
    const k3 = d.map((x) => Math.exp(x) - x - 1);
    assert.ok(k3.every((x) => x >= 0));
    const beta = 0.5;
    const { loss, stats } = await lossAndStats(c, options('bnpo', { beta }));
    close(stats.klMean!, k3.reduce((s, x) => s + x, 0) / 5, 'kl mean');
    close(loss, (beta * k3.reduce((s, x) => s + x, 0)) / 5, 'beta * mean kl');
    // d/dlogp [exp(ref - logp) - (ref - logp) - 1] = 1 - exp(ref - logp)
    const { grad } = lossAndGrad(c, options('bnpo', { beta }));
    grad[0].forEach((g, t) => close(g, (beta * (1 - Math.exp(d[t]))) / 5, `kl gradient at ${t}`));

    const same = await lossAndStats({ ...c, refLogp: c.logp }, options('bnpo', { beta }));
    assert.equal(same.stats.klMean, 0);
    assert.equal(same.loss, 0);
  });

  it('is absent from the loss and the stats when beta is 0, as TRL leaves kl unlogged', async () => {
    const withRef = await lossAndStats(SMALL, options('bnpo'));
    const withoutRef = await lossAndStats({ ...SMALL, refLogp: undefined }, options('bnpo'));
    close(withRef.loss, withoutRef.loss, 'beta 0');
    assert.equal(withRef.stats.klMean, undefined);
    assert.ok((await lossAndStats(SMALL, options('bnpo', { beta: 0.1 }))).stats.klMean! > 0);
  });

  it('refuses a non-zero beta without reference log-probabilities', () => {
    assert.throws(() => lossAndGrad({ ...SMALL, refLogp: undefined }, options('bnpo', { beta: 0.1 })), /reference/);
  });
});

describe('grpoLoss masking', () => {
  it('masked tokens change nothing, whatever they hold, and get a gradient of exactly 0', () => {
    const garbage: Case = {
      ...SMALL,
      logp: [SMALL.logp[0], [SMALL.logp[1][0], SMALL.logp[1][1], -Infinity]],
      oldLogp: [SMALL.oldLogp[0], [SMALL.oldLogp[1][0], SMALL.oldLogp[1][1], NaN]],
      refLogp: [SMALL.refLogp![0], [SMALL.refLogp![1][0], SMALL.refLogp![1][1], 1e9]],
    };
    for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'cispo'] as LossType[]) {
      const opts = options(lossType, { beta: 0.1, batchTokenCount: 5, epsilonHigh: lossType === 'cispo' ? 5 : EPS_HIGH });
      const clean = lossAndGrad(SMALL, opts);
      const dirty = lossAndGrad(garbage, opts);
      close(dirty.loss, clean.loss, `${lossType} loss`);
      assert.equal(dirty.grad[1][2], 0, `${lossType}: gradient of a masked token`);
      dirty.grad.flat().forEach((g, i) => close(g, clean.grad.flat()[i], `${lossType} gradient ${i}`));
    }
  });

  it('a fully masked completion counts as a sequence for grpo but adds no tokens', () => {
    const c: Case = { ...SMALL, mask: [[1, 1, 1], [0, 0, 0]] };
    const opts = options('grpo', { beta: 0.1 });
    close(lossAndGrad(c, opts).loss, referenceLoss(c, opts), 'grpo with an empty row');
  });

  it('maskTruncatedCompletions zeroes the rows of truncated completions only, in a copy', () => {
    const mask = new Float32Array([1, 1, 0, 1, 1, 1, 1, 0, 0]);
    assert.deepEqual([...maskTruncatedCompletions(mask, 3, [false, true, false])], [1, 1, 0, 0, 0, 0, 1, 0, 0]);
    assert.deepEqual([...mask], [1, 1, 0, 1, 1, 1, 1, 0, 0]);
  });
});

describe('tokenEntropy', () => {
  it('is log V for uniform logits, 0 for a certain token, and the formula otherwise', () => {
    const logits = tf.tensor3d([[[0, 0, 0, 0], [0, -Infinity, -Infinity, -Infinity], [1, 2, 0.5, -1]]]);
    const h = tokenEntropy(logits).arraySync()[0];
    close(h[0], Math.log(4), 'uniform');
    close(h[1], 0, 'certain');
    const z = [1, 2, 0.5, -1].map(Math.exp);
    const p = z.map((x) => x / z.reduce((s, y) => s + y, 0));
    close(h[2], -p.reduce((s, x) => s + x * Math.log(x), 0), 'softmax entropy');
    logits.dispose();
  });
});

describe('grpoLoss memory', () => {
  it('leaves the tensor count flat across repeated loss + gradient + stats reads', async () => {
    const inputs = tensors(SMALL);
    const logp = tf.variable(inputs.logp);
    const step = async () => {
      let parts;
      const { value, grads } = tf.variableGrads(() => {
        const out = grpoLoss({ ...inputs, logp: logp as unknown as tf.Tensor2D }, options('dapo', { beta: 0.1, batchTokenCount: 5 }));
        parts = out.parts;
        return out.loss;
      }, [logp]);
      tf.dispose([value, ...Object.values(grads)]);
      await readLossParts(parts!);
    };
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await step();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([logp, ...Object.values(inputs)]);
  });
});
