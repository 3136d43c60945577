import { rescoreRun } from '../../rescore/rescore';
import { rescoreTable } from '../../rescore/table';
import { numberFlag, requireString } from '../args';
import { parseFlags } from '../flags';

export const RESCORE_HELP = `grpo rescore --run RUN_DIR [--iteration N] [--reward FILE]... [--json]

Scores a run's rollout again with the reward files as they are on disk now, and shows how
rewards and advantages would change: per completion, per group, and in summary (mean
reward, share of zero-std groups, advantage sign flips, reward failures). Weights, time
limit and scale_rewards are the run's (config.json, and weights changed live as its newest
checkpoint holds them). Nothing is trained and no model is loaded.
  --run RUN_DIR   a run folder, e.g. .grpo/runs/<id>
  --iteration N   the iteration whose rollouts to score (default: the newest)
  --reward FILE   score with this reward file instead of the run's; repeat for several.
                  A file the run had keeps its weight and functions; others weigh 1.
                  Relative paths, and the file names shown, are from the current folder.
  --json          the report as one JSON object (src/rescore/report.ts)`;

export async function rescoreCommand(argv: string[]): Promise<void> {
  const c = 'rescore';
  const v = parseFlags(c, argv, {
    run: { type: 'string' },
    iteration: { type: 'string' },
    reward: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  const report = await rescoreRun({
    runDir: requireString(v, 'run'),
    iteration: v.iteration === undefined ? undefined : numberFlag(v, 'iteration', 0, { min: 1, integer: true }),
    rewardFiles: v.reward as string[] | undefined,
    workspaceRoot: process.cwd(),
  });
  process.stdout.write(v.json ? JSON.stringify(report) + '\n' : rescoreTable(report));
}
