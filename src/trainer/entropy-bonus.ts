import type { TrainingConfig } from './config';

/** What an exact resume needs of the adaptive controller. */
export interface EntropyBonusState {
  coef: number;
  /** Entropy measured at the last optimizer step; null before the first (TRL starts at +inf). */
  lastEntropy: number | null;
}

/**
 * The coefficient of the entropy bonus for each optimizer step, as TRL applies it: fixed at
 * entropy_coef, or under use_adaptive_entropy (Skywork-OR1) moved by entropy_coef_delta after
 * every step towards entropy_target and applied only while the last measured entropy is at or
 * below the target.
 */
export class EntropyBonus {
  private coef: number;
  private lastEntropy: number;

  constructor(
    private readonly config: Pick<
      TrainingConfig,
      'entropy_coef' | 'use_adaptive_entropy' | 'entropy_coef_min' | 'entropy_coef_max' | 'entropy_coef_delta' | 'entropy_target'
    >,
    state?: EntropyBonusState,
  ) {
    this.coef = state?.coef ?? config.entropy_coef;
    this.lastEntropy = state?.lastEntropy ?? Infinity;
  }

  /** Whether the bonus takes part in the loss at all (and so needs the entropy's gradient). */
  get enabled(): boolean {
    return this.config.entropy_coef !== 0 || this.config.use_adaptive_entropy;
  }

  /** The coefficient the coming step applies. */
  applied(): number {
    if (!this.config.use_adaptive_entropy) return this.coef;
    return this.lastEntropy <= this.config.entropy_target ? this.coef : 0;
  }

  /** The coefficient as it stands ("entropy_coef" in the metrics). */
  get current(): number {
    return this.coef;
  }

  /** After an applied step: `entropy` is its mean over the tokens the policy term acted on. */
  afterStep(entropy: number): void {
    if (!this.config.use_adaptive_entropy) return;
    const c = this.config;
    this.coef = entropy <= c.entropy_target ? Math.min(this.coef + c.entropy_coef_delta, c.entropy_coef_max) : Math.max(this.coef - c.entropy_coef_delta, c.entropy_coef_min);
    this.lastEntropy = entropy;
  }

  state(): EntropyBonusState {
    return { coef: this.coef, lastEntropy: Number.isFinite(this.lastEntropy) ? this.lastEntropy : null };
  }
}
