import * as tf from '@tensorflow/tfjs-core';

/**
 * The entropy of the policy's next-token distribution at each position, in nats:
 * H = -sum_v p_v log p_v with p = softmax(logits). TRL logs its masked mean as "entropy";
 * a falling entropy is the first sign of collapse that DAPO's clip-higher counters.
 * logits: [B, T, V] -> [B, T]. Tokens with probability 0 (logit -Infinity) add 0.
 */
export function tokenEntropy(logits: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits); // [B, T, V]
    const p = tf.exp(logp);
    const plogp = tf.where(tf.greater(p, 0), tf.mul(p, logp), tf.zerosLike(p));
    return tf.neg(tf.sum(plogp, -1)) as tf.Tensor2D; // [B, T]
  });
}
