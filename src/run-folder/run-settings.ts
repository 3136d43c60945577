import type { CurrentSettings, LiveSettingsChange, MetricsLine } from '../protocol/dashboard-messages';
import type { TrainingConfig } from '../trainer/config';

/**
 * The settings the run's next iteration uses, for the dashboard's controls: the config's,
 * the learning rate the schedule reached last, and any live changes on top.
 */
export function runSettings(config: TrainingConfig, metrics: readonly MetricsLine[], live: LiveSettingsChange = {}): CurrentSettings {
  const last = metrics[metrics.length - 1];
  const lastRate = last?.learning_rate;
  return {
    learningRate: live.learningRate ?? (typeof lastRate === 'number' && lastRate > 0 ? lastRate : config.learning_rate),
    klCoef: live.klCoef ?? config.kl_coef,
    temperature: live.temperature ?? config.temperature,
    rewardWeights: { ...rewardWeights(config, last), ...live.rewardWeights },
  };
}

/**
 * Weight by reward function name. A config entry names its functions or takes all its file
 * exports; the names of the latter come only from the metrics, and can be tied to their entry
 * only when a single entry leaves its functions open. Names that cannot be tied are left out
 * rather than shown with a made-up weight.
 */
function rewardWeights(config: TrainingConfig, last: MetricsLine | undefined): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const r of config.rewards) for (const fn of r.functions ?? []) weights[fn] = r.weight;
  const open = config.rewards.filter((r) => r.functions === undefined);
  if (open.length !== 1 || last === undefined) return weights;
  for (const key of Object.keys(last)) {
    const fn = /^rewards\/(.+)\/mean$/.exec(key)?.[1];
    if (fn !== undefined && !(fn in weights)) weights[fn] = open[0].weight;
  }
  return weights;
}
