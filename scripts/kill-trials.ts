// Many SIGKILL trials of `grpo train` (test/helpers/kill-trial.ts does one): each kills a
// demo-like run at a random moment, a quarter each aimed at the rollout, the rewards and
// update, and the checkpoint writing of a random iteration, and a quarter at a random delay
// from the start; one trial in five kills the resume too, at or after the first kill's iteration. Prints the kills per phase and
// every trial whose checks failed.
//
//   npm run build && node --import tsx scripts/kill-trials.ts [--trials 60] [--iterations 6] [--seed 1]
//     [--phase rollout|'rewards and update'|checkpoint]   (every first kill in that phase)
//
// Exit status 0: every trial held (resumed from the newest complete checkpoint, every listed
// checkpoint loaded, metrics and rollouts whole, final weights equal to an uninterrupted run's).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { iterName } from '../src/trainer/run-dir';
import { hasPty, killTrial, modelTensors, PHASES, trainUntilKilled, writeKillConfig, type KillTarget, type Phase } from '../test/helpers/kill-trial';

const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '60' },
    iterations: { type: 'string', default: '6' },
    seed: { type: 'string', default: '1' },
    phase: { type: 'string' }, // aim every first kill at this phase, of iterations 2..N
  },
});
const trials = Number(args.trials);
const n = Number(args.iterations);

/** mulberry32: a small seeded generator, so a failing trial can be replayed with the same --seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<number> {
  if (!hasPty()) throw new Error('util-linux `script` is needed to run the trainer on a pseudo-terminal');
  const rand = random(Number(args.seed));
  const work = mkdtempSync(join(tmpdir(), 'grpo-kill-trials-'));
  const config = writeKillConfig(work, n);
  const names = await modelTensors();

  // An uninterrupted run: its final weights are what every resumed run must end with, and its
  // length spreads the "anywhere" kills over a whole run.
  const t0 = performance.now();
  const whole = await trainUntilKilled(['--config', config], undefined, work);
  const runSeconds = (performance.now() - t0) / 1000;
  if (whole.code !== 0) throw new Error(`the uninterrupted run failed:\n${whole.output}`);
  const runDir = /run (\S+)/.exec(whole.output)![1];
  const expected = readFileSync(join(runDir, 'checkpoints', iterName(n), 'model.safetensors'));
  rmSync(join(work, 'runs'), { recursive: true });

  const phases = ['rollout', 'rewards and update', 'checkpoint'] as const;
  const only = phases.find((p) => p === args.phase);
  if (args.phase !== undefined && !only) throw new Error(`--phase ${args.phase}: choose one of ${phases.join(', ')}`);
  // A second target (the resume's) is at or after the first kill's iteration, which a resume
  // from the checkpoint before it runs again, or at a delay within a resume's length.
  const target = (from = 1): KillTarget =>
    rand() < 0.25
      ? { afterMs: rand() * runSeconds * 1000 * (from > 1 ? 0.5 : 1) }
      : { phase: phases[Math.floor(rand() * phases.length)], iteration: from + Math.floor(rand() * (n - from + 1)), fraction: rand() };
  const perPhase = new Map<Phase, { kills: number; metricsPast: number; torn: number }>(PHASES.map((p) => [p, { kills: 0, metricsPast: 0, torn: 0 }]));
  let beforeFirstCheckpoint = 0;
  let ranToEnd = 0;
  let kills = 0;
  const failures: string[] = [];
  const started = performance.now();
  for (let t = 1; t <= trials; t++) {
    const first: KillTarget = only ? { phase: only, iteration: 2 + Math.floor(rand() * (n - 1)), fraction: rand() } : target();
    const targets = rand() < 0.2 ? [first, target('iteration' in first ? first.iteration : 2)] : [first];
    try {
      const r = await killTrial(work, config, n, targets, names, expected);
      for (const k of r.kills) {
        kills++;
        const p = perPhase.get(k.phase)!;
        p.kills++;
        if (k.metricsPast > 0) p.metricsPast++;
        if (k.torn) p.torn++;
        if (k.resumedFrom === undefined) beforeFirstCheckpoint++;
      }
      if (r.ranToEnd) ranToEnd++;
      process.stderr.write(`trial ${t}: ${r.target}: ${r.kills.map((k) => `killed in ${k.phase} of iteration ${k.iteration}, resumed from ${k.resumedFrom ?? 'nothing'}`).join('; ') || 'ran to the end'}\n`);
    } catch (e) {
      failures.push(`trial ${t} (${targets.map((x) => JSON.stringify(x)).join(', ')}): ${(e as Error).message}`);
      process.stderr.write(`trial ${t}: FAILED: ${(e as Error).message}\n`);
    }
    for (const f of readdirSync(join(work, 'runs'))) rmSync(join(work, 'runs', f), { recursive: true });
  }
  const seconds = (performance.now() - started) / 1000;
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(
    `${trials} trials, ${kills} kills, ${(seconds / trials).toFixed(1)} s a trial (an uninterrupted ${n}-iteration run takes ${runSeconds.toFixed(1)} s)\n` +
      `phase               kills  metrics lines past the checkpoint  torn last line\n` +
      PHASES.map((p) => {
        const c = perPhase.get(p)!;
        return `${p.padEnd(20)}${String(c.kills).padStart(5)}  ${String(c.metricsPast).padStart(33)}  ${String(c.torn).padStart(14)}\n`;
      }).join('') +
      `killed before the first checkpoint (resume refused, as it should be): ${beforeFirstCheckpoint}\n` +
      `trials whose kill moment came after the run had ended: ${ranToEnd}\n` +
      `failed trials: ${failures.length}\n` +
      failures.map((f) => `  ${f}\n`).join(''),
  );
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
