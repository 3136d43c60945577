// Things a user watching the curves would otherwise miss, worked out from what the dashboard
// already holds: metrics, the rollout on show, and reward failures.
import { metricValue, type IterationFailures, type MetricsLine, type RolloutCompletion } from '../src/protocol/dashboard-messages';
import { groupRollout } from './rollout-groups';

export interface Alert {
  kind: 'reward-failure' | 'nan-reward' | 'zero-variance' | 'kl-spike' | 'length-runaway';
  severity: 'error' | 'warning' | 'info';
  title: string;
  detail: string;
  /** A failing reward function's stack, mapped to the user's file. */
  stack?: string;
}

export const KL_SPIKE_FACTOR = 3; // x the median of the iterations before
const KL_SPIKE_HISTORY = 3; // iterations needed before a median means anything
export const CLIPPED_RATIO_LIMIT = 0.5;
const LENGTH_NEAR_LIMIT = 0.9; // mean length as a share of max_new_tokens
const LENGTH_RISING_OVER = 3; // iterations of rising mean length that make it a trend

export interface AlertInputs {
  metrics: readonly MetricsLine[];
  rollout: { iteration: number; completions: readonly RolloutCompletion[] } | null;
  failures: readonly IterationFailures[];
  maxNewTokens: number;
}

export function detectAlerts(inputs: AlertInputs): Alert[] {
  const metrics = [...inputs.metrics].sort((a, b) => a.iteration - b.iteration);
  return [
    ...rewardFailureAlerts(inputs.failures),
    ...(inputs.rollout ? rolloutAlerts(inputs.rollout.iteration, inputs.rollout.completions) : []),
    ...klSpikeAlerts(metrics),
    ...lengthAlerts(metrics, inputs.maxNewTokens),
  ];
}

/** Each function's most recent failures, one alert per distinct error, with its stack. */
export function rewardFailureAlerts(failures: readonly IterationFailures[]): Alert[] {
  const latest = new Map<string, { iteration: number; errors: IterationFailures['failed'][number]['errors'] }>();
  for (const f of [...failures].sort((a, b) => a.iteration - b.iteration)) {
    for (const fn of f.failed) latest.set(fn.fn, { iteration: f.iteration, errors: fn.errors });
  }
  return [...latest].flatMap(([fn, { iteration, errors }]) =>
    errors.map((e) => ({
      kind: 'reward-failure' as const,
      severity: 'error' as const,
      title: `Reward function ${fn} failed (${e.kind}) on ${e.samples.length} completion${e.samples.length === 1 ? '' : 's'} at iteration ${iteration}`,
      detail: e.message,
      stack: e.stack,
    })),
  );
}

function rolloutAlerts(iteration: number, completions: readonly RolloutCompletion[]): Alert[] {
  const alerts: Alert[] = [];
  const unscored = completions.filter((c) => c.reward === null).length;
  const nanByFn = new Map<string, number>();
  for (const c of completions) for (const [fn, v] of Object.entries(c.rewards)) if (v === null) nanByFn.set(fn, (nanByFn.get(fn) ?? 0) + 1);
  if (unscored > 0 || nanByFn.size > 0) {
    const perFn = [...nanByFn].map(([fn, n]) => `${fn}: ${n}`).join(', ');
    alerts.push({
      kind: 'nan-reward',
      severity: 'error',
      title: `NaN rewards at iteration ${iteration}`,
      detail: `${unscored} of ${completions.length} completions have no reward at all (advantage 0). Missing values by function: ${perFn || 'none'}.`,
    });
  }
  const groups = groupRollout(completions);
  const flat = groups.filter((g) => g.zeroVariance);
  if (flat.length > 0) {
    const prompts = flat.slice(0, 3).map((g) => JSON.stringify(g.prompt.length > 60 ? g.prompt.slice(0, 60) + '…' : g.prompt));
    alerts.push({
      kind: 'zero-variance',
      severity: flat.length * 2 > groups.length ? 'warning' : 'info',
      title: `${flat.length} of ${groups.length} groups at iteration ${iteration} have no reward variance`,
      detail: `Every completion of these prompts got the same reward, so they teach nothing this iteration: ${prompts.join(', ')}${flat.length > 3 ? ', …' : ''}.`,
    });
  }
  return alerts;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Iterations whose KL exceeds KL_SPIKE_FACTOR x the running median of the iterations before. */
export function klSpikes(metrics: readonly MetricsLine[]): { iteration: number; kl: number; median: number }[] {
  const spikes: { iteration: number; kl: number; median: number }[] = [];
  const seen: number[] = [];
  for (const line of metrics) {
    const kl = metricValue(line, 'kl');
    if (!Number.isFinite(kl)) continue;
    if (seen.length >= KL_SPIKE_HISTORY) {
      const m = median(seen);
      if (m > 0 && kl > KL_SPIKE_FACTOR * m) spikes.push({ iteration: line.iteration, kl, median: m });
    }
    seen.push(kl);
  }
  return spikes;
}

function klSpikeAlerts(metrics: readonly MetricsLine[]): Alert[] {
  const spikes = klSpikes(metrics);
  if (spikes.length === 0) return [];
  const last = spikes[spikes.length - 1];
  return [
    {
      kind: 'kl-spike',
      severity: 'warning',
      title: `KL spike at iteration ${last.iteration}: ${last.kl.toPrecision(3)}, ${(last.kl / last.median).toFixed(1)}x the median before it`,
      detail:
        `The policy moved far from the reference in one iteration. A lower learning rate or a higher kl_coef holds it closer.` +
        (spikes.length > 1 ? ` Spikes also at iterations ${spikes.slice(0, -1).map((s) => s.iteration).join(', ')}.` : ''),
    },
  ];
}

function lengthAlerts(metrics: readonly MetricsLine[], maxNewTokens: number): Alert[] {
  const last = metrics[metrics.length - 1];
  if (!last) return [];
  const clipped = metricValue(last, 'completions/clipped_ratio');
  const lengths = metrics.slice(-(LENGTH_RISING_OVER + 1)).map((l) => metricValue(l, 'completions/mean_length'));
  const mean = lengths[lengths.length - 1];
  const rising = lengths.length > LENGTH_RISING_OVER && lengths.every((x, i) => i === 0 || x > lengths[i - 1]);
  const near = maxNewTokens > 0 && mean >= LENGTH_NEAR_LIMIT * maxNewTokens;
  if (!(clipped > CLIPPED_RATIO_LIMIT) && !(near && rising)) return [];
  return [
    {
      kind: 'length-runaway',
      severity: 'warning',
      title: `Completion lengths running away at iteration ${last.iteration}`,
      detail:
        `Mean length ${mean.toFixed(1)} of max_new_tokens ${maxNewTokens}; ${Number.isFinite(clipped) ? Math.round(clipped * 100) : '?'}% of completions were cut off. ` +
        `A reward that favours length, or no stop condition, often does this.`,
    },
  ];
}
