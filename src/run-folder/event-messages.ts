import type { AdapterInfoMessage, EvaluationLine, HostMessage, MetricsLine, TrainerStatus } from '../protocol/dashboard-messages';
import type { TrainerEvent } from '../trainer/events';
import type { DecodeToken, RunFolder } from './run-folder';
import { rolloutsMessage } from './snapshot';

/**
 * Turns a training session's events into dashboard messages. It remembers the iterations
 * completed, which the status of a pause or an error does not carry, and the status last
 * sent and the run's adapter, for the snapshot of a dashboard opened mid-run.
 */
export class DashboardEvents {
  private current: TrainerStatus = { state: 'starting', iteration: 0 };
  private runAdapter: AdapterInfoMessage | undefined;

  constructor(
    private readonly folder: RunFolder,
    /** May still be loading: only a `metrics` event needs it. */
    private readonly decodeToken: DecodeToken | Promise<DecodeToken>,
  ) {}

  get status(): TrainerStatus {
    return this.current;
  }

  /** A LoRA run's adapter, from its run-started event. */
  get adapter(): AdapterInfoMessage | undefined {
    return this.runAdapter;
  }

  /** The messages for `event`, in order; [] for events the dashboard does not show. */
  async messagesFor(event: TrainerEvent): Promise<HostMessage[]> {
    switch (event.type) {
      case 'run-started':
        this.runAdapter = event.adapter;
        return [this.setStatus({ state: 'running', iteration: event.resumedFrom ?? 0 })];
      case 'metrics': {
        this.current = { ...this.current, iteration: event.iteration };
        // NaN metrics become null, as in metrics.jsonl and the snapshot.
        const metrics = JSON.parse(JSON.stringify(event.metrics)) as MetricsLine;
        const rollouts = await rolloutsMessage(this.folder, event.iteration, await this.decodeToken);
        // The status line counts iterations done: it moves on with each metrics line.
        const status: HostMessage = { type: 'status', status: this.current };
        return rollouts ? [{ type: 'metrics', metrics }, rollouts, status] : [{ type: 'metrics', metrics }, status];
      }
      case 'evaluation': {
        // As evaluations.jsonl has it: NaN means become null.
        const { iteration, prompts, reward, rewards } = JSON.parse(JSON.stringify(event)) as EvaluationLine;
        return [{ type: 'evaluation', evaluation: { iteration, prompts, reward, rewards } }];
      }
      case 'rewards-scored':
        return event.failed.length > 0 ? [{ type: 'reward-failures', iteration: event.iteration, failed: event.failed }] : [];
      case 'paused':
        return [this.setStatus({ state: 'paused', iteration: event.iteration })];
      case 'resumed':
        return [this.setStatus({ state: 'running', iteration: event.iteration })];
      case 'error':
        return [this.setStatus({ state: 'failed', iteration: this.current.iteration, message: event.message })];
      case 'finished':
        return [
          this.setStatus(
            event.reason === 'failed'
              ? { state: 'failed', iteration: event.iteration, message: this.current.message }
              : { state: 'finished', iteration: event.iteration, message: event.reason === 'stopped' ? 'stopped' : undefined },
          ),
        ];
      default:
        return [];
    }
  }

  /** A status the session knows before any event says so (e.g. `stopping` after Stop). */
  setStatus(status: TrainerStatus): HostMessage {
    this.current = status;
    return { type: 'status', status };
  }
}
