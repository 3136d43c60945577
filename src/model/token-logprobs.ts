import * as tf from '@tensorflow/tfjs-core';

/**
 * log p(target) under each position's logits: logits [B, T, V], targets [B, T] -> [B, T].
 * Computed as logit[target] - logsumexp(logits), which never materialises a second
 * [B, T, V] tensor of log-probabilities.
 */
export function tokenLogprobs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t, v] = logits.shape;
    // A flat gather at row * V + target: wasm's gather with batchDims reads out of bounds.
    const rowStart = tf.mul(tf.range(0, b * t, 1, 'int32'), tf.scalar(v, 'int32'));
    const flatIndex = tf.add(rowStart, tf.reshape(targets, [b * t]));
    const picked = tf.reshape(tf.gather(tf.reshape(logits, [-1]), flatIndex), [b, t]); // [B, T]
    return tf.sub(picked, tf.logSumExp(logits, -1)) as tf.Tensor2D;
  });
}
