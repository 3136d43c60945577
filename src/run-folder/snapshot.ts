import type { AdapterInfoMessage, HostMessage, LiveSettingsChange, TrainerStatus } from '../protocol/dashboard-messages';
import { readAdapterFile } from './adapter-file';
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
  /**
   * The owning session's adapter, from its run-started event: the trainer writes adapter.json
   * just after that event, so the first snapshot of a new run's dashboard may come before the file.
   */
  adapter?: AdapterInfoMessage;
  decodeToken: DecodeToken;
  /** Told why a file that only labels the run (adapter.json) could not be read; that label is left out. */
  log?(line: string): void;
}

/** Everything the dashboard shows, read from the run folder: the answer to each `ready`. */
export async function snapshotMessage(folder: RunFolder, options: SnapshotOptions): Promise<Snapshot> {
  const config = await folder.config();
  const metrics = await folder.metrics();
  const rolloutIterations = await folder.rolloutIterations();
  const latest = rolloutIterations[rolloutIterations.length - 1];
  const lastIteration = metrics[metrics.length - 1]?.iteration ?? 0;
  const adapter = options.adapter ?? (await adapterOf(folder, options.log));
  return {
    type: 'snapshot',
    run: {
      name: folder.name,
      runDir: folder.path,
      readOnly: options.readOnly,
      maxNewTokens: config.max_new_tokens,
      groupSize: config.group_size,
      settings: runSettings(config, metrics, options.live),
      ...(adapter && { adapter }),
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

async function adapterOf(folder: RunFolder, log: ((line: string) => void) | undefined): Promise<AdapterInfoMessage | undefined> {
  const { adapter, problem } = await readAdapterFile(folder.path);
  if (problem) log?.(`dashboard ${folder.name}: ${problem}`);
  return adapter;
}
