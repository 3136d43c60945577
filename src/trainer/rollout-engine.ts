// Which engine samples a run's completions (rollout_engine): llama.cpp where it can sample
// exactly what the config means, else the training engine itself. The choice is made once
// at start and written to the run log with its reason; a live setting that llama.cpp cannot
// honour (a temperature change with top_p, say) moves single iterations back to tfjs.
import { UserError } from '../errors';
import { unsupportedModel } from '../llama-cpp/gguf-policy';
import { loadLlamaCpp } from '../llama-cpp/native';
import { LlamaCppRollouts, samplingMismatch } from '../llama-cpp/rollouts';
import type { CausalLM } from '../model/causal-lm';
import type { ModelConfig } from '../model/config';
import type { Completion, GenerateOptions } from '../model/generate';
import { configParameters } from '../model/params';
import type { TrainingConfig } from './config';

/**
 * Whether auto samples with llama.cpp at this size and length. Measured on 2 cores, 4 x 8 rows
 * (bench/RESULTS.md): the 0.33M demo decodes as fast on tfjs at 64 new tokens (tfjs also
 * prefills each prompt once for its group) but 1.4x faster on llama.cpp at 256; a 25M model
 * gains 4.9x already at 64. 128 new tokens lies between the demo's tie and its gain.
 */
export function autoPrefersLlamaCpp(parameters: number, maxNewTokens: number): boolean {
  return parameters >= 5e6 || maxNewTokens >= 128;
}

export type Generate = (prompts: number[][], opts: GenerateOptions) => Promise<Completion[][]>;

export class RolloutEngine {
  private warned = false;

  private constructor(
    private readonly rollouts: LlamaCppRollouts | undefined,
    /** For the run log: the engine and, where it is tfjs under auto, why. */
    readonly description: string,
  ) {}

  static async open(config: TrainingConfig, model: ModelConfig, backend: string): Promise<RolloutEngine> {
    if (config.rollout_engine === 'tfjs') return new RolloutEngine(undefined, 'tfjs (rollout_engine "tfjs")');
    const reason = whyNotLlamaCpp(config, model, backend);
    if (reason === undefined) {
      const llama = await loadLlamaCpp();
      if (typeof llama !== 'string') {
        const rollouts = await LlamaCppRollouts.create(llama, config.rollout_weights);
        return new RolloutEngine(rollouts, `llama.cpp (CPU, weights ${config.rollout_weights.toUpperCase()})`);
      }
      return RolloutEngine.fallback(config, llama);
    }
    return RolloutEngine.fallback(config, reason);
  }

  private static fallback(config: TrainingConfig, reason: string): RolloutEngine {
    if (config.rollout_engine === 'llama.cpp') {
      throw new UserError(`rollout_engine "llama.cpp" in the config cannot be used: ${reason}. Set "rollout_engine": "auto" to sample with tfjs where llama.cpp cannot, or change what is named.`);
    }
    return new RolloutEngine(undefined, `tfjs (llama.cpp not used: ${reason})`);
  }

  /**
   * The generate function for this iteration, with the policy's current weights handed to
   * llama.cpp first; undefined means tfjs generation. `warn` gets a live-setting fallback once.
   */
  async forIteration(policy: CausalLM, settings: Parameters<typeof samplingMismatch>[0], warn: (message: string) => void): Promise<Generate | undefined> {
    if (!this.rollouts) return undefined;
    const mismatch = samplingMismatch(settings);
    if (mismatch !== undefined) {
      if (!this.warned) warn(`rollouts sampled with tfjs while ${mismatch}`);
      this.warned = true;
      return undefined;
    }
    await this.rollouts.syncPolicy(policy);
    const rollouts = this.rollouts;
    return (prompts, opts) => rollouts.generate(prompts, opts);
  }

  async close(): Promise<void> {
    await this.rollouts?.close();
  }
}

function whyNotLlamaCpp(config: TrainingConfig, model: ModelConfig, backend: string): string | undefined {
  // Native TensorFlow may be on a GPU, where its own generation can be the faster one.
  if (config.rollout_engine === 'auto' && backend === 'tensorflow') return 'the backend is native TensorFlow';
  const sampling = samplingMismatch({ temperature: config.temperature, topP: config.top_p, minP: config.min_p, repetitionPenalty: config.repetition_penalty });
  if (sampling !== undefined) return sampling;
  const unsupported = unsupportedModel(model, config.max_prompt_tokens + config.max_new_tokens);
  if (unsupported !== undefined) return unsupported;
  const parameters = configParameters(model);
  if (config.rollout_engine === 'auto' && !autoPrefersLlamaCpp(parameters, config.max_new_tokens)) {
    return `the model is small (${(parameters / 1e6).toFixed(2)}M parameters) and its completions short (max_new_tokens ${config.max_new_tokens}): tfjs samples as fast below 5M parameters and 128 new tokens`;
  }
  return undefined;
}
