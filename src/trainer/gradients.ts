import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params';

export interface LossAndGradients {
  loss: tf.Scalar;
  grads: Map<string, tf.Tensor>; // by parameter name, same shapes as the params
}

/**
 * The value of `lossFn` and its gradient with respect to every parameter, keyed by the
 * parameter's HF name (tf.variableGrads keys by the variables' internal names). Everything
 * returned belongs to the caller; tf.variableGrads runs `lossFn` in its own tidy, so
 * intermediates (inputs built inside `lossFn` included) are freed.
 */
export function lossAndGradients(params: Params, lossFn: () => tf.Scalar): LossAndGradients {
  const names = [...params.keys()];
  const { value, grads } = tf.variableGrads(lossFn, names.map((n) => params.get(n)!));
  return { loss: value, grads: new Map(names.map((n) => [n, grads[params.get(n)!.name]])) };
}

export function disposeGradients(g: LossAndGradients): void {
  g.loss.dispose();
  for (const t of g.grads.values()) t.dispose();
}
