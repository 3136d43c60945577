import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from './causal-lm';
import type { TensorData } from './safetensors';
import { isLinearWeight, tensorsFromParams } from './params';

/**
 * The model's weights in HF layout with its LoRA adapters folded in (W + scale * A B for each
 * targeted layer, the trained copy for each module to save), as PEFT's merge_and_unload
 * gives them: a plain model folder any tool loads. Without adapters, the weights as they are.
 */
export async function mergedTensors(model: CausalLM): Promise<Map<string, TensorData>> {
  const lora = model.lora;
  if (!lora || !lora.enabled) return tensorsFromParams(model.params);
  const trained = lora.trainable();
  const out = new Map<string, TensorData>();
  for (const [name, base] of model.params) {
    const module = name.replace(/\.weight$/, '');
    const a = trained.get(`${module}.lora_A`);
    const b = trained.get(`${module}.lora_B`);
    const value = tf.tidy(() => {
      let w: tf.Tensor = lora.saved.get(name) ?? base;
      if (a && b && name.endsWith('.weight')) w = tf.add(w, tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), lora.scale));
      return isLinearWeight(name) ? tf.transpose(w) : w.clone();
    });
    out.set(name, { shape: value.shape.slice(), data: (await value.data()) as Float32Array });
    value.dispose();
  }
  return out;
}
