// One line per training iteration, in columns a person can follow down the screen; the legend
// says once what each column is. metrics.jsonl holds every metric, this shows the few that tell
// whether a run is going well.
import type { IterationMetrics } from '../trainer/events';
import { formatDuration } from './iteration-rate';

export const TABLE_LEGEND =
  'One line per iteration. reward: mean ± std of the rollout\'s rewards. kl: mean KL to the reference model (- without a KL term).\n' +
  'loss: the policy loss. entropy: mean token entropy (nats). length: mean completion tokens. flat: share of groups whose\n' +
  'rewards are all equal (they teach nothing). s/it: seconds per iteration over the last 10. left: time to the last iteration\n' +
  'at that rate. Every metric of every iteration is in the run folder\'s metrics.jsonl.\n';

interface Rate {
  secondsPerIteration: number | undefined;
  secondsLeft: number | undefined;
}

const HEAD = ['reward ± std', 'kl', 'loss', 'entropy', 'length', 'flat', 's/it', 'left'];
const WIDTH = [15, 8, 9, 8, 7, 5, 6, 7];

export function tableHeader(total: number): string {
  return ['iteration'.padStart(iterationWidth(total)), ...HEAD.map((h, i) => h.padStart(WIDTH[i]))].join(' ') + '\n';
}

export function tableRow(m: IterationMetrics, total: number, rate: Rate): string {
  const cells = [
    `${num(m, 'reward', 3)} ± ${num(m, 'reward_std', 3)}`,
    num(m, 'kl', 4),
    num(m, 'loss', 4),
    num(m, 'entropy', 3),
    num(m, 'completions/mean_length', 1),
    num(m, 'frac_reward_zero_std', 2),
    rate.secondsPerIteration === undefined ? '-' : rate.secondsPerIteration.toFixed(2),
    rate.secondsLeft === undefined ? '-' : formatDuration(rate.secondsLeft),
  ];
  return [`${m.iteration}/${total}`.padStart(iterationWidth(total)), ...cells.map((c, i) => c.padStart(WIDTH[i]))].join(' ') + '\n';
}

function iterationWidth(total: number): number {
  return Math.max('iteration'.length, 2 * String(total).length + 1);
}

function num(m: IterationMetrics, key: string, digits: number): string {
  const v = m[key];
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-';
}
