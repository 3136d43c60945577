// metrics.jsonl lines -> what each chart draws: lines per iteration, optional bands around
// them, and the iterations where a reward file changed version. No chart.js here, so the
// mapping is tested in Node; charts.ts only draws these.
import { metricValue, type EvaluationLine, type MetricsLine } from '../src/protocol/dashboard-messages';

export interface Point {
  x: number; // iteration
  y: number | null; // null draws a gap (a NaN metric, or one this iteration lacks)
}

export interface Series {
  label: string;
  points: Point[];
  /** Shaded range drawn around the line, e.g. mean +- std. */
  band?: { label: string; low: Point[]; high: Point[] };
}

export interface ChartSpec {
  id: string;
  title: string;
  series: Series[];
  /** Iterations where any reward file's version differs from the iteration before. */
  markers: number[];
}

interface LineDef {
  metric: string;
  label: string;
  band?: { label: string } & ({ std: string } | { low: string; high: string });
}

interface ChartDef {
  id: string;
  title: string;
  lines: LineDef[];
}

const REWARD_FN = /^rewards\/(.+)\/mean$/;

/** Charts after the reward ones, in the order they are shown. */
const FIXED_CHARTS: ChartDef[] = [
  { id: 'kl', title: 'KL to reference', lines: [{ metric: 'kl', label: 'kl' }] },
  { id: 'loss', title: 'Loss', lines: [{ metric: 'loss', label: 'loss' }] },
  {
    id: 'clip',
    title: 'Clip ratios',
    lines: [
      { metric: 'clip_ratio/low_mean', label: 'low' },
      { metric: 'clip_ratio/high_mean', label: 'high' },
      { metric: 'clip_ratio/region_mean', label: 'region' },
      { metric: 'cispo_clip_ratio', label: 'cispo' },
    ],
  },
  { id: 'entropy', title: 'Entropy', lines: [{ metric: 'entropy', label: 'entropy' }] },
  {
    id: 'length',
    title: 'Completion length (tokens)',
    lines: [
      {
        metric: 'completions/mean_length',
        label: 'mean',
        band: { label: 'min to max', low: 'completions/min_length', high: 'completions/max_length' },
      },
    ],
  },
  {
    id: 'shares',
    title: 'Zero-variance groups and truncated completions',
    lines: [
      { metric: 'frac_reward_zero_std', label: 'zero-variance groups' },
      { metric: 'completions/clipped_ratio', label: 'truncated' },
    ],
  },
  { id: 'throughput', title: 'Generation tokens per second', lines: [{ metric: 'tokens_per_second/generate', label: 'tokens/s' }] },
  { id: 'lr', title: 'Learning rate', lines: [{ metric: 'learning_rate', label: 'learning rate' }] },
];

/** Reward function names in the order they first appear in the metrics. */
export function rewardFunctionNames(metrics: readonly MetricsLine[]): string[] {
  const names = new Set<string>();
  for (const line of metrics) {
    for (const key of Object.keys(line)) {
      const m = REWARD_FN.exec(key);
      if (m) names.add(m[1]);
    }
  }
  return [...names];
}

/** Iterations whose reward_versions differ from the previous line's (a file edited, added or dropped). */
export function versionChanges(metrics: readonly MetricsLine[]): number[] {
  const changes: number[] = [];
  let previous: Record<string, string> | undefined;
  for (const line of byIteration(metrics)) {
    const v = line.reward_versions;
    if (typeof v !== 'object' || v === null) continue;
    if (previous && !sameVersions(previous, v)) changes.push(line.iteration);
    previous = v;
  }
  return changes;
}

function sameVersions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function byIteration(metrics: readonly MetricsLine[]): MetricsLine[] {
  return [...metrics].sort((a, b) => a.iteration - b.iteration);
}

function points(lines: readonly MetricsLine[], value: (line: MetricsLine) => number): Point[] {
  return lines.map((line) => {
    const y = value(line);
    return { x: line.iteration, y: Number.isFinite(y) ? y : null };
  });
}

function series(lines: readonly MetricsLine[], def: LineDef): Series {
  const s: Series = { label: def.label, points: points(lines, (l) => metricValue(l, def.metric)) };
  const band = def.band;
  if (band && 'std' in band) {
    s.band = {
      label: band.label,
      low: points(lines, (l) => metricValue(l, def.metric) - metricValue(l, band.std)),
      high: points(lines, (l) => metricValue(l, def.metric) + metricValue(l, band.std)),
    };
  } else if (band) {
    s.band = { label: band.label, low: points(lines, (l) => metricValue(l, band.low)), high: points(lines, (l) => metricValue(l, band.high)) };
  }
  return s;
}

/**
 * Held-out reward at each evaluation (evaluations.jsonl): the total, and each reward function
 * when there are several. Undefined when the run has not evaluated.
 */
function heldOutChart(evaluations: readonly EvaluationLine[], markers: number[]): ChartSpec | undefined {
  if (evaluations.length === 0) return undefined;
  const sorted = [...evaluations].sort((a, b) => a.iteration - b.iteration);
  const at = (value: (e: EvaluationLine) => number | null | undefined): Point[] => sorted.map((e) => ({ x: e.iteration, y: value(e) ?? null }));
  const fns = [...new Set(sorted.flatMap((e) => Object.keys(e.rewards)))];
  const series: Series[] = [{ label: 'total', points: at((e) => e.reward) }];
  if (fns.length > 1) series.push(...fns.map((fn) => ({ label: fn, points: at((e) => e.rewards[fn]) })));
  return { id: 'heldout', title: 'Held-out reward (evaluations)', series, markers };
}

/**
 * The values a reward function records with ctx.metric, which metrics.jsonl keeps as
 * "<function>/<name>": function -> its metric names, in order of first appearance.
 */
export function rewardMetricNames(metrics: readonly MetricsLine[], functions: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of metrics) {
    for (const key of Object.keys(line)) {
      const slash = key.indexOf('/');
      const fn = key.slice(0, slash);
      if (slash <= 0 || !functions.includes(fn)) continue;
      const names = out.get(fn) ?? [];
      if (!names.includes(key)) names.push(key);
      out.set(fn, names);
    }
  }
  return out;
}

/**
 * Every chart of the dashboard: total reward (+- reward_std, the std of the batch's rewards),
 * the held-out reward when the run evaluates, one per reward function (+- its std) followed by
 * what it records with ctx.metric, then the fixed ones. A chart whose metrics never appear is
 * left out.
 */
export function chartSpecs(metrics: readonly MetricsLine[], evaluations: readonly EvaluationLine[] = []): ChartSpec[] {
  const lines = byIteration(metrics);
  const markers = versionChanges(lines);
  const defs: ChartDef[] = [
    { id: 'reward', title: 'Reward', lines: [{ metric: 'reward', label: 'reward', band: { label: '± std', std: 'reward_std' } }] },
    ...rewardCharts(lines),
    ...FIXED_CHARTS,
  ];
  const specs = defs
    .filter((d) => d.lines.some((l) => lines.some((line) => l.metric in line)))
    // Within a chart, a line none of the run's iterations has is not drawn (cispo's clip ratio in a clipped run).
    .map((d) => ({ id: d.id, title: d.title, series: d.lines.filter((l) => lines.some((line) => l.metric in line)).map((l) => series(lines, l)), markers }));
  const heldOut = heldOutChart(evaluations, markers);
  if (heldOut) specs.splice(specs[0]?.id === 'reward' ? 1 : 0, 0, heldOut);
  return specs;
}

function rewardCharts(lines: readonly MetricsLine[]): ChartDef[] {
  const functions = rewardFunctionNames(lines);
  const recorded = rewardMetricNames(lines, functions);
  return functions.flatMap((fn) => [
    {
      id: `reward-fn:${fn}`,
      title: `Reward: ${fn}`,
      lines: [{ metric: `rewards/${fn}/mean`, label: fn, band: { label: '± std', std: `rewards/${fn}/std` } }],
    },
    ...(recorded.has(fn)
      ? [{ id: `reward-metrics:${fn}`, title: `Recorded by ${fn} (ctx.metric)`, lines: recorded.get(fn)!.map((key) => ({ metric: key, label: key.slice(fn.length + 1) })) }]
      : []),
  ]);
}
