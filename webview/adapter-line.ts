// The line that says what a LoRA run trains, shown under the run's title. It is the trainer's
// describeAdapter (src/trainer/adapter-info.ts), written again here because that module's
// imports reach Node-only code the browser bundle cannot type-check; test/dashboard-adapter.test.ts
// holds the two to the same text.
import type { AdapterInfoMessage } from '../src/protocol/dashboard-messages';

/** "LoRA r=16 (alpha 32) on q_proj, v_proj: 0.590M trained of 134.52M" */
export function adapterLine(a: AdapterInfoMessage): string {
  const m = (n: number) => `${(n / 1e6).toFixed(n < 1e6 ? 3 : 2)}M`;
  const saved = a.modules_to_save.length > 0 ? `, ${a.modules_to_save.join(', ')} trained whole` : '';
  return `LoRA r=${a.r} (alpha ${a.lora_alpha}${a.use_rslora ? ', rsLoRA' : ''}) on ${a.target_modules.join(', ')}${saved}: ${m(a.trainable_parameters)} trained of ${m(a.base_parameters)}`;
}

/** The tooltip: the share of the model that learns, and how many linear layers carry an adapter. */
export function adapterTitle(a: AdapterInfoMessage): string {
  const share = a.base_parameters > 0 ? ` (${((100 * a.trainable_parameters) / a.base_parameters).toFixed(2)}% of the base)` : '';
  return `${a.trainable_parameters.toLocaleString('en-US')} parameters trained${share}, in adapters on ${a.adapted_layers} linear layers; the base model's ${a.base_parameters.toLocaleString('en-US')} stay frozen.`;
}
