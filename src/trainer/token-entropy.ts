import * as tf from '@tensorflow/tfjs-core';

/**
 * The entropy of the policy's next-token distribution at each position, in nats:
 * H = -sum_v p_v log p_v with p = softmax(logits). TRL logs its masked mean as "entropy",
 * masks the policy term by it (top_entropy_quantile) and can add it as a bonus; a falling
 * entropy is the first sign of the collapse that DAPO's clip-higher counters.
 * logits: [B, T, V] -> [B, T]. Tokens with probability 0 (logit -Infinity) add 0.
 *
 * The gradient is written out, dH/dz = -p (log p + H), rather than left to autodiff, which
 * would differentiate the max inside the log-sum-exp through a slow Equal mask on wasm (as
 * in token-logprobs.ts). It is only computed when the entropy enters the loss (the bonus).
 */
export function tokenEntropy(logits: tf.Tensor3D): tf.Tensor2D {
  const [b, t, v] = logits.shape;
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const flat = tf.reshape(x, [b * t, v]); // [N, V]
    const logp = tf.logSoftmax(flat); // [N, V]
    const p = tf.exp(logp);
    const plogp = tf.where(tf.greater(p, 0), tf.mul(p, logp), tf.zerosLike(p)); // [N, V]
    const h = tf.neg(tf.sum(plogp, 1)); // [N]
    save([flat, h]);
    return {
      value: tf.reshape(h, [b, t]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedFlat, savedH] = saved;
        const lp = tf.logSoftmax(savedFlat); // [N, V]
        const pr = tf.exp(lp);
        const term = tf.where(tf.greater(pr, 0), tf.mul(pr, tf.add(lp, tf.reshape(savedH, [b * t, 1]))), tf.zerosLike(pr));
        return tf.reshape(tf.mul(tf.neg(term), tf.reshape(dy, [b * t, 1])), [b, t, v]);
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Tensor2D;
}
