import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config';

/**
 * Rotary position embeddings in the "rotate half" layout that HF LLaMA-family models use:
 * dimension i pairs with i + headDim/2 (not interleaved pairs).
 */

/** Inverse frequencies theta^(-2i/d), with Llama 3's rescaling applied when configured. */
export function inverseFrequencies(config: ModelConfig): Float32Array {
  const d = config.headDim;
  const inv = new Float64Array(d / 2);
  for (let i = 0; i < d / 2; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / d);
  const s = config.ropeScaling;
  if (s) {
    // Llama 3: long wavelengths (low frequencies) are divided by `factor`, short ones kept,
    // and the band between is interpolated smoothly.
    const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (let i = 0; i < inv.length; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen < highFreqWavelen) continue;
      if (wavelen > lowFreqWavelen) {
        inv[i] = inv[i] / s.factor;
        continue;
      }
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
    }
  }
  return Float32Array.from(inv);
}

export interface RopeTables {
  cos: tf.Tensor4D; // [B, T, 1, headDim]
  sin: tf.Tensor4D; // [B, T, 1, headDim]
}

/** cos/sin for each token's position; computed in float32 as transformers does. */
export function ropeTables(positions: tf.Tensor2D, invFreq: tf.Tensor1D): RopeTables {
  return tf.tidy(() => {
    const [b, t] = positions.shape;
    const angles = tf.mul(tf.reshape(tf.cast(positions, 'float32'), [b, t, 1]), tf.reshape(invFreq, [1, 1, -1])); // [B, T, d/2]
    const full = tf.reshape(tf.concat([angles, angles], -1), [b, t, 1, -1]) as tf.Tensor4D; // [B, T, 1, d]
    return { cos: tf.cos(full), sin: tf.sin(full) };
  });
}

/** x * cos + rotate_half(x) * sin, for x: [B, T, heads, headDim]. */
export function applyRope(x: tf.Tensor4D, rope: RopeTables): tf.Tensor4D {
  return tf.tidy(() => {
    const half = x.shape[3] / 2;
    const [x1, x2] = tf.split(x, [half, half], 3);
    const rotated = tf.concat([tf.neg(x2), x1], 3);
    return tf.add(tf.mul(x, rope.cos), tf.mul(rotated, rope.sin)) as tf.Tensor4D;
  });
}
