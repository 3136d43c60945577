import * as tf from '@tensorflow/tfjs-core';

/**
 * Activation recomputation (TRL's and transformers' gradient_checkpointing) for one block of a
 * model: `body(x, constants)` runs with no tape, so none of its intermediates outlive it; the
 * tape keeps only the block's input. The backward pass runs `body` again on that input, this
 * time under a tape of its own, and takes the gradients of the input and of `trained` (the
 * tensors `body` reads that are being trained) through it. The price is one more forward pass
 * of the block in the backward pass; what it buys is that a training step holds the
 * activations of one block at a time instead of every block's.
 *
 * `constants` are tensors `body` reads that are not trained and may be freed before the
 * backward pass runs (position tables, the attention mask): they are saved with the input.
 * Tensors that outlive the step (the frozen weights) may be read from `body`'s closure.
 * `body` must compute the same function both times: any randomness in it must be seeded by
 * state that does not change between a step's forward and backward passes (LoRA dropout is:
 * both run inside one tf.variableGrads).
 */
export function recomputedInBackward<T extends tf.Tensor>(
  body: (x: T, constants: tf.Tensor[]) => T,
  x: T,
  trained: tf.Tensor[],
  constants: tf.Tensor[],
): T {
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as T;
    save([input, ...constants]);
    return {
      value: body(input, constants),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedInput, ...savedConstants] = saved as [T, ...tf.Tensor[]];
        const xs = [savedInput, ...trained];
        const { value, grads } = gradientsOnOwnTape(() => body(savedInput, savedConstants), xs, dy);
        value.dispose();
        // A trained tensor the block did not read this time (LoRA switched off) has no path.
        return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, ...trained) as T;
}

/**
 * tf's gradients of `f` with respect to `xs`, computed inside another gradient's backward pass.
 * The engine keeps one active tape: a gradient computation started while none is recording
 * replaces it, and clears it when done, so the outer backward pass would lose the tape whose
 * saved tensors it frees at its end. The outer tape is set aside and put back around the inner
 * computation, which then frees its own saved tensors (this block's activations) as soon as
 * it has its gradients. test/layer-recompute.test.ts checks gradients and tensor counts.
 */
function gradientsOnOwnTape(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): { value: tf.Tensor; grads: (tf.Tensor | null)[] } {
  const state = tf.engine().state;
  const outer = state.activeTape;
  const depth = state.gradientDepth;
  state.activeTape = [];
  state.gradientDepth = 0;
  try {
    return tf.engine().gradients(f, xs, dy, true) as { value: tf.Tensor; grads: (tf.Tensor | null)[] };
  } finally {
    state.activeTape = outer;
    state.gradientDepth = depth;
  }
}
