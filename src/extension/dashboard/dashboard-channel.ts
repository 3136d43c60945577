import {
  webviewMessageProblem,
  type AdapterInfoMessage,
  type HostMessage,
  type LiveSettingsChange,
  type TrainerStatus,
  type WebviewMessage,
} from '../../protocol/dashboard-messages';
import { MessageQueue } from '../../protocol/message-queue';
import { RunFolder, type DecodeToken } from '../../run-folder/run-folder';
import { rolloutsMessage, snapshotMessage } from '../../run-folder/snapshot';

/** Commands to the training session that owns the run; absent for a read-only past run. */
export interface TrainingControls {
  pause(): void;
  resume(): void;
  step(): void;
  stop(): void;
  setLive(change: LiveSettingsChange): void;
  /** The session's status, live changes and LoRA adapter, for the snapshot of a (re)loaded page. */
  status(): TrainerStatus;
  live(): LiveSettingsChange;
  adapter(): AdapterInfoMessage | undefined;
}

export interface CompletionRef {
  runDir: string;
  iteration: number;
  group: number;
  member: number;
}

export interface DashboardChannelOptions {
  runDir: string;
  decodeToken: DecodeToken;
  controls?: TrainingControls;
  openCompletion(ref: CompletionRef): void;
  /** One line for the log channel: messages refused or not answerable. */
  log(line: string): void;
  /** An error the user must see, e.g. a damaged run folder. */
  showError(message: string): void;
}

/**
 * Both directions of one dashboard, without VS Code: messages to the page wait in a queue
 * until it says `ready`, each `ready` is answered with a snapshot from the run folder, and
 * each message from the page is checked, then routed to the session or answered from the folder.
 */
export class DashboardChannel {
  private readonly folder: RunFolder;
  private readonly queue: MessageQueue<HostMessage>;
  private controls: TrainingControls | undefined;

  constructor(
    private readonly options: DashboardChannelOptions,
    deliver: (message: HostMessage) => void,
  ) {
    this.folder = new RunFolder(options.runDir);
    this.controls = options.controls;
    this.queue = new MessageQueue(deliver);
  }

  /** Delivers now, or after the page's next `ready`. */
  post(message: HostMessage): void {
    this.queue.post(message);
  }

  /** The page is being torn down (hidden, reloaded): hold messages until it is ready again. */
  pageGone(): void {
    this.queue.reset();
  }

  /** The session that owned the run has ended: the controls no longer reach anything. */
  detachControls(): void {
    this.controls = undefined;
  }

  /**
   * A session now trains this run (a past run resumed while its dashboard was open): the
   * page gets a new snapshot, no longer read-only, with the session's status.
   */
  async attachControls(controls: TrainingControls): Promise<void> {
    this.controls = controls;
    this.queue.post(await this.snapshot());
  }

  /** A message from the page, unchecked as it arrived. */
  async receive(raw: unknown): Promise<void> {
    const problem = webviewMessageProblem(raw);
    if (problem) {
      this.options.log(`dashboard ${this.folder.name}: refused a message from the webview: ${problem}`);
      return;
    }
    try {
      await this.handle(raw as WebviewMessage);
    } catch (e) {
      const message = (e as Error).message;
      this.options.log(`dashboard ${this.folder.name}: ${message}`);
      this.options.showError(message);
    }
  }

  private snapshot() {
    const c = this.controls;
    return snapshotMessage(this.folder, {
      readOnly: c === undefined,
      status: c?.status(),
      live: c?.live(),
      adapter: c?.adapter(),
      decodeToken: this.options.decodeToken,
      log: this.options.log,
    });
  }

  private async handle(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready': {
        this.queue.reset();
        this.queue.open(await this.snapshot());
        return;
      }
      case 'request-rollouts': {
        const rollouts = await rolloutsMessage(this.folder, m.iteration, this.options.decodeToken);
        if (rollouts) this.queue.post(rollouts);
        else this.options.log(`dashboard ${this.folder.name}: no rollouts written for iteration ${m.iteration}`);
        return;
      }
      case 'open-completion':
        this.options.openCompletion({ runDir: this.options.runDir, iteration: m.iteration, group: m.group, member: m.member });
        return;
      case 'control':
      case 'live-settings': {
        const c = this.controls;
        if (!c) {
          this.options.log(`dashboard ${this.folder.name}: ignored "${m.type}": no training session owns this run`);
          return;
        }
        if (m.type === 'live-settings') c.setLive(m.settings);
        else c[m.action]();
        return;
      }
    }
  }
}
