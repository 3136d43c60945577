// The rescore report as a plain-text table, for the terminal and for the editor's read-only
// preview. Prompts and completions are model output: they are shown quoted, on one line,
// escaped and shortened, never interpreted.
import type { RescoredGroup, RescoredSample, RescoreReport } from './report';

const TEXT_WIDTH = 60;

/** One line, quoted and escaped as JSON, shortened to about `width` characters. */
export function quoted(s: string, width = TEXT_WIDTH): string {
  // JSON leaves the Unicode line and paragraph separators (and NEL) as they are; editors break lines at them.
  const q = JSON.stringify(s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return q.length <= width ? q : `${q.slice(0, width - 2)}…"`;
}

function num(x: number | null, digits = 4): string {
  return x === null ? 'n/a' : x.toFixed(digits);
}

function change(old: number | null, now: number | null, digits = 4): string {
  return old === now ? num(now, digits) : `${num(old, digits)} -> ${num(now, digits)}`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

export function rescoreTable(r: RescoreReport): string {
  const out: string[] = [];
  const s = r.summary;
  out.push(`Run ${r.runDir}, iteration ${r.iteration}: ${r.samples.length} completions in ${r.groups.length} groups of ${r.groupSize}, scale_rewards ${r.scaleRewards}`);
  out.push('Reward functions now:');
  for (const f of r.rewards) out.push(`  ${f.name}  weight ${f.weight}  ${f.file} @ ${f.version}`);
  out.push('');
  out.push(`${'summary'.padEnd(22)}${'old'.padStart(10)}${'new'.padStart(10)}`);
  out.push(`${'mean reward'.padEnd(22)}${num(s.oldMeanReward).padStart(10)}${num(s.newMeanReward).padStart(10)}`);
  out.push(`${'zero-std groups'.padEnd(22)}${percent(s.oldZeroStdShare).padStart(10)}${percent(s.newZeroStdShare).padStart(10)}`);
  out.push(`advantage sign flips: ${s.signFlips} of ${r.samples.length}`);
  out.push(`reward failures: ${s.rewardFailures}`);
  const names = r.rewards.map((f) => f.name);
  r.groups.forEach((g, i) => {
    out.push('', groupHeader(g));
    out.push(`  ${'member'.padEnd(8)}${'reward'.padEnd(22)}${'advantage'.padEnd(24)}${names.map((n) => n.padEnd(16)).join('')}completion`);
    for (const sample of r.samples.slice(i * r.groupSize, (i + 1) * r.groupSize)) out.push(sampleLine(sample, names));
  });
  if (r.errors.length > 0) {
    out.push('', 'Reward errors:');
    for (const e of r.errors) {
      out.push(`  ${e.fn} (${e.file}) ${e.kind} on ${e.samples.length} sample(s): ${quoted(e.message, 200)}`);
      for (const line of (e.stack ?? '').split('\n').filter((l) => l.trim() !== '').slice(0, 3)) out.push(`      ${line.trim()}`);
    }
  }
  return out.join('\n') + '\n';
}

function groupHeader(g: RescoredGroup): string {
  const flat = (zero: boolean) => (zero ? ' (zero std)' : '');
  return (
    `group ${g.group}  row ${g.row}  prompt ${quoted(g.prompt)}\n` +
    `  mean reward ${change(g.oldMean, g.newMean)}  std ${num(g.oldStd)}${flat(g.oldZeroStd)} -> ${num(g.newStd)}${flat(g.newZeroStd)}`
  );
}

function sampleLine(s: RescoredSample, names: readonly string[]): string {
  const flipped = (s.oldAdvantage ?? 0) * (s.newAdvantage ?? 0) < 0 ? ' flip' : '';
  const perFunction = names.map((n) => change(s.oldRewards[n] ?? null, s.newRewards[n] ?? null, 2).padEnd(16)).join('');
  return (
    `  ${String(s.member).padEnd(8)}${change(s.oldReward, s.newReward).padEnd(22)}${(change(s.oldAdvantage, s.newAdvantage) + flipped).padEnd(24)}` +
    `${perFunction}${quoted(s.completion)}`
  );
}
