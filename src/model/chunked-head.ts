import * as tf from '@tensorflow/tfjs-core';

/**
 * log p(target) and the entropy of the next-token distribution at each position, straight
 * from the final hidden states, without ever holding the [N, vocab] logits: the output head's
 * matmul, the log-softmax and the entropy run over slices of the vocabulary, with a running
 * max and sums (an online log-sum-exp), in the forward pass and again in the backward pass
 * (TRL's selective log-softmax and Liger's fused linear cross-entropy do the same). Peak memory
 * is a few [N, vocabChunk] slices instead of several [N, vocab] tensors: at SmolLM2-135M's
 * 49152-token vocabulary and 2048 positions, 33 MB a slice of 4096 against 400 MB a copy.
 *
 * hidden [N, d], head [d, V] (the lm head as stored, or the transposed tied embedding),
 * targets [N] int32; logits are divided by `temperature` (the sampling distribution).
 * Returns [N, 2]: column 0 log p(target), column 1 entropy in nats. Differentiable in hidden
 * and head; the entropy's part of the gradient is computed only when `entropyGradient`.
 *
 * With z = h W / temperature, p = softmax(z), lse = log sum exp z, H = lse - sum p z:
 *   d logp / dz = onehot(target) - p
 *   d H / dz    = -p (z - lse + H)
 *   dh = (dz / temperature) W^T,  dW = h^T (dz / temperature), slice by slice.
 */
export function chunkedHeadLogprobs(
  hidden: tf.Tensor2D,
  head: tf.Tensor2D,
  targets: tf.Tensor1D,
  opts: { temperature: number; vocabChunk: number; entropyGradient: boolean },
): tf.Tensor2D {
  const [n] = hidden.shape;
  const vocab = head.shape[1];
  const chunk = Math.max(1, Math.min(opts.vocabChunk, vocab));
  const invT = 1 / opts.temperature;
  const slices: [number, number][] = [];
  for (let v0 = 0; v0 < vocab; v0 += chunk) slices.push([v0, Math.min(chunk, vocab - v0)]);
  /** Tempered logits of one vocabulary slice: [N, width]. */
  const logitsOf = (h: tf.Tensor2D, w: tf.Tensor2D, v0: number, width: number) => {
    const z = tf.matMul(h, tf.slice(w, [0, v0], [-1, width]));
    return invT === 1 ? z : tf.mul(z, invT);
  };
  /** 1 where the target falls in this slice, at its column: [N, width]. */
  const targetMask = (t: tf.Tensor1D, v0: number, width: number) => tf.oneHot(tf.sub(t, tf.scalar(v0, 'int32')), width, 1, 0, 'float32');

  const op = tf.customGrad(((h: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    // Online log-sum-exp over slices: m the running max, s = sum exp(z - m), zs = sum exp(z - m) z.
    let m = tf.fill([n], -Infinity) as tf.Tensor1D;
    let s = tf.zeros([n]) as tf.Tensor1D;
    let zs = tf.zeros([n]) as tf.Tensor1D;
    // The target's logit, read from the head's columns directly rather than from each slice.
    const picked = tf.tidy(() => {
      const columns = tf.gather(w, targets, 1); // [d, N]
      const z = tf.sum(tf.mul(h, tf.transpose(columns)), 1); // [N]
      return invT === 1 ? z : tf.mul(z, invT);
    }) as tf.Tensor1D;
    // With the whole vocabulary in one slice the logits are kept for the backward pass rather
    // than recomputed: memory allowed it, and it saves the head's matmul.
    let whole: tf.Tensor2D | undefined;
    for (const [v0, width] of slices) {
      const next = tf.tidy(() => {
        const z = logitsOf(h, w, v0, width); // [N, width]
        if (slices.length === 1) whole = tf.keep(z) as tf.Tensor2D;
        const mNew = tf.maximum(m, tf.max(z, 1));
        const rescale = tf.exp(tf.sub(m, mNew)); // 0 on the first slice (m = -inf)
        const e = tf.exp(tf.sub(z, tf.reshape(mNew, [n, 1])));
        // Logits of a matmul of finite weights are finite, so e z needs no guard against 0 x -inf.
        return {
          m: mNew,
          s: tf.add(tf.mul(s, rescale), tf.sum(e, 1)),
          zs: tf.add(tf.mul(zs, rescale), tf.sum(tf.mul(e, z), 1)),
        };
      });
      tf.dispose([m, s, zs]);
      ({ m, s, zs } = next as { m: tf.Tensor1D; s: tf.Tensor1D; zs: tf.Tensor1D });
    }
    const lse = tf.add(m, tf.log(s)); // [N]
    const entropy = tf.sub(lse, tf.div(zs, s)); // [N]
    // Saved, not captured: the caller's targets may be freed before the backward pass runs.
    save([h, w, targets, lse, entropy, ...(whole ? [whole] : [])]);
    whole?.dispose(); // save() kept its own copy
    return {
      value: tf.stack([tf.sub(picked, lse), entropy], 1) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sh, sw, sTargets, sLse, sH, sWhole] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D?];
        const gLogp = tf.reshape(tf.slice(dy, [0, 0], [-1, 1]), [n, 1]);
        const gH = tf.reshape(tf.slice(dy, [0, 1], [-1, 1]), [n, 1]);
        const lseCol = tf.reshape(sLse, [n, 1]);
        const hMinusLse = tf.sub(tf.reshape(sH, [n, 1]), lseCol); // H - lse, per row
        let dh = tf.zerosLike(sh) as tf.Tensor2D;
        const dwSlices: tf.Tensor2D[] = [];
        for (const [v0, width] of slices) {
          const [dhNext, dw] = tf.tidy(() => {
            const z = sWhole ?? logitsOf(sh, sw, v0, width);
            const p = tf.exp(tf.sub(z, lseCol)); // [N, width]
            let dz = tf.mul(tf.sub(targetMask(sTargets, v0, width), p), gLogp);
            if (opts.entropyGradient) {
              const term = tf.mul(p, tf.add(z, hMinusLse));
              dz = tf.sub(dz, tf.mul(term, gH));
            }
            if (invT !== 1) dz = tf.mul(dz, invT);
            const wSlice = tf.slice(sw, [0, v0], [-1, width]); // [d, width]
            return [tf.add(dh, tf.matMul(dz, wSlice, false, true)), tf.matMul(sh, dz, true, false)] as [tf.Tensor2D, tf.Tensor2D];
          });
          dh.dispose();
          dh = dhNext;
          dwSlices.push(dw);
        }
        const dw = dwSlices.length === 1 ? dwSlices[0] : tf.concat(dwSlices, 1);
        if (dwSlices.length > 1) tf.dispose(dwSlices);
        return [dh, dw];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(hidden, head) as tf.Tensor2D;
}
