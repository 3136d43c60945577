import type { HostMessage, LiveSettingsChange, TrainerStatus } from '../protocol/dashboard-messages';
import type { DecodeToken, RunFolder } from './run-folder';
import { runSettings } from './run-settings';

type Snapshot = Extract<HostMessage, { type: 'snapshot' }>;
type Rollouts = Extract<HostMessage, { type: 'rollouts' }>;

export interface SnapshotOptions {
  /** A past run, or one no training session of this window owns: no controls. */
  readOnly: boolean;
  /** The owning session's status; absent for a past run, which shows as finished. */
  status?: TrainerStatus;
  /** Changes the owning session made since the run started. */
  live?: LiveSettingsChange;
  decodeToken: DecodeToken;
}

/** Everything the dashboard shows, read from the run folder: the answer to each `ready`. */
export async function snapshotMessage(folder: RunFolder, options: SnapshotOptions): Promise<Snapshot> {
  const config = await folder.config();
  const metrics = await folder.metrics();
  const rolloutIterations = await folder.rolloutIterations();
  const latest = rolloutIterations[rolloutIterations.length - 1];
  const lastIteration = metrics[metrics.length - 1]?.iteration ?? 0;
  return {
    type: 'snapshot',
    run: {
      name: folder.name,
      runDir: folder.path,
      readOnly: options.readOnly,
      maxNewTokens: config.max_new_tokens,
      groupSize: config.group_size,
      settings: runSettings(config, metrics, options.live),
    },
    status: options.status ?? { state: 'finished', iteration: lastIteration },
    metrics,
    rolloutIterations,
    rollouts: latest === undefined ? null : ((await rolloutsMessage(folder, latest, options.decodeToken)) ?? null),
    rewardFailures: await folder.rewardFailures(),
    evaluations: await folder.evaluations(),
  };
}

/** One iteration's rollouts as a message; undefined when the folder has none for it. */
export async function rolloutsMessage(folder: RunFolder, iteration: number, decodeToken: DecodeToken): Promise<Rollouts | undefined> {
  const completions = await folder.rollouts(iteration, decodeToken);
  return completions && { type: 'rollouts', iteration, completions };
}
