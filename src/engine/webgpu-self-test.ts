// Before the webgpu backend trains anything, it must give the same loss and gradients as the
// backend it replaces. A driver or a tfjs WebGPU kernel can be wrong on one GPU and right on
// another (tfjs 4.22 is no longer maintained), and a wrong gradient trains silently into
// nonsense; a wrong value here falls back to wasm with the figures instead.
import * as tf from '@tensorflow/tfjs-core';
import { causalMask, positionsFromValid } from '../model/attention-mask';
import { CausalLM } from '../model/causal-lm';
import { parseModelConfig, type ModelConfig } from '../model/config';
import { freshConfigJson, MODEL_SIZES, randomWeights } from '../model/init';
import { paramsFromTensors } from '../model/params';
import type { TensorData } from '../model/safetensors';
import { tokenLogprobs } from '../model/token-logprobs';
import { lossAndGradients } from '../trainer/gradients';

/** Largest gradient difference allowed, relative to the largest gradient of the same parameter. */
const SELF_TEST_TOLERANCE = 1e-3;

export interface SelfTestResult {
  ok: boolean;
  /** The largest |candidate - reference| / max|reference| over every parameter's gradient, and the loss. */
  worst: number;
  /** Where the worst difference is: a parameter name, "loss", "gradient norm", or the device's error. */
  where: string;
  ms: number;
}

const VOCAB = 96;
const ROWS = 2;
const LENGTH = 12;

/**
 * Loss and gradients of a tiny llama (the `tiny` size: 2 layers, GQA, tied embeddings), over
 * one padded row and one full row, on `candidate` and on `reference`; the backend that is
 * current afterwards is `candidate`. Every kernel a training step uses runs: gather, RMSNorm,
 * RoPE, masked attention, SiLU MLP, the tied head and the token log-probabilities.
 */
export async function gradientSelfTest(candidate: string, reference: string, deviceError: () => string | undefined): Promise<SelfTestResult> {
  const t0 = Date.now();
  const config = tinyConfig();
  const weights = randomWeights(config, 20261207, 0.1);
  await tf.setBackend(reference);
  const want = await lossAndGradientValues(config, weights);
  await tf.setBackend(candidate);
  const got = await lossAndGradientValues(config, weights);
  const error = deviceError();
  if (error !== undefined) return { ok: false, worst: Infinity, where: `a failed GPU command: ${error}`, ms: Date.now() - t0 };
  let worst = Math.abs(got.loss - want.loss) / Math.max(Math.abs(want.loss), 1e-6);
  let where = 'loss';
  for (const [name, g] of want.grads) {
    const o = got.grads.get(name)!;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < g.length; i++) {
      const d = Math.abs(o[i] - g[i]);
      diff = Number.isNaN(d) ? Infinity : Math.max(diff, d); // a NaN on either side fails
      scale = Math.max(scale, Math.abs(g[i]));
    }
    const relative = diff / Math.max(scale, 1e-6);
    if (relative > worst) [worst, where] = [relative, name];
  }
  return { ok: worst <= SELF_TEST_TOLERANCE, worst, where, ms: Date.now() - t0 };
}

function tinyConfig(): ModelConfig {
  const json = freshConfigJson('llama', { ...MODEL_SIZES.tiny, vocabSize: VOCAB }, { vocabSize: VOCAB, bosTokenId: 1, eosTokenId: 2 });
  return parseModelConfig(json as never, 'the webgpu self-test model');
}

async function lossAndGradientValues(config: ModelConfig, weights: Map<string, TensorData>): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const model = new CausalLM(config, paramsFromTensors(config, weights, 'the webgpu self-test model'));
  // Row 0 starts with three padding tokens (left padding, as rollouts are batched); row 1 is full.
  const valid = [0, 1].map((row) => Uint8Array.from({ length: LENGTH }, (_, k) => (row === 0 && k < 3 ? 0 : 1)));
  const ids = Int32Array.from({ length: ROWS * LENGTH }, (_, i) => (i * 37 + 11) % VOCAB);
  try {
    const { loss, grads } = lossAndGradients(model.params, () => {
      const input = {
        ids: tf.tensor2d(ids, [ROWS, LENGTH], 'int32'),
        positions: tf.tensor2d(positionsFromValid(valid, LENGTH), [ROWS, LENGTH], 'int32'),
        mask: causalMask(valid, LENGTH, null),
      };
      const { hidden } = model.forward(input, false);
      const logits = tf.slice(model.logits(hidden), [0, 0, 0], [ROWS, LENGTH - 1, VOCAB]);
      const targets = tf.slice(input.ids, [0, 1], [ROWS, LENGTH - 1]);
      const weightsOfTokens = tf.tensor2d(Float32Array.from({ length: ROWS * (LENGTH - 1) }, (_, i) => (i < 3 ? 0 : 1)), [ROWS, LENGTH - 1]);
      return tf.neg(tf.mean(tf.mul(tokenLogprobs(logits, targets), weightsOfTokens))) as tf.Scalar;
    });
    // The optimizer's global norm, as it computes it: one AddN over every parameter.
    const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
    const values = { loss: (await loss.data())[0], grads: new Map<string, Float32Array>([['gradient norm', (await norm.data()) as Float32Array]]) };
    for (const [name, g] of grads) values.grads.set(name, (await g.data()) as Float32Array);
    tf.dispose([loss, norm, ...grads.values()]);
    return values;
  } finally {
    model.dispose();
  }
}
