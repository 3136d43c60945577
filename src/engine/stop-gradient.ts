import * as tf from '@tensorflow/tfjs-core';

/**
 * `x` as a constant for autodiff: the same values, a gradient of zero (torch's `detach`).
 * tfjs-core has no such op. CISPO needs it: its clipped importance weight scales each
 * token's gradient but is itself not differentiated.
 */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as Parameters<typeof tf.customGrad>[0]) as <T extends tf.Tensor>(x: T) => T;
