// The one training run of a trainer process: the TrainingRun built from the host's `start`, its
// events relayed, and the host's commands applied one after another in the order they came.
import { join } from 'node:path';
import { UserError } from '../errors';
import type { HostCommand, StartCommand, TrainerNotification } from '../protocol/trainer-messages';
import type { TrainerEvent } from '../trainer/events';
import { createTrainingRun, type TrainingRun } from '../trainer/training-run';
import { readStartSettings } from './start-settings';

/** How the run ended, for the process's exit code. */
export type SessionEnd = { ok: true } | { ok: false; error: unknown };

type Command = Exclude<HostCommand, StartCommand>;

export class TrainingSession {
  private phase: 'idle' | 'starting' | 'training' | 'ended' = 'idle';
  private trainer: TrainingRun | undefined;
  /**
   * Commands run strictly in turn, so a checkpoint being written at an iteration boundary is
   * complete before a later resume, step or stop lets the trainer change the weights again.
   */
  private queue: Promise<void> = Promise.resolve();
  private hostPaused = false;
  /** The trainer waits between iterations: its `paused` came and nothing has woken it since. */
  private atBoundary = false;
  private checkpointWanted = false;
  /** The session paused the trainer only to save, and hides the `resumed` that follows. */
  private hideNextResumed = false;
  private endRun!: (end: SessionEnd) => void;
  readonly ended = new Promise<SessionEnd>((resolve) => (this.endRun = resolve));

  constructor(private readonly send: (n: TrainerNotification) => void) {}

  /** The run's log, once the run folder exists: where a fatal error is also written. */
  get logFile(): string | undefined {
    return this.trainer && join(this.trainer.run.path, 'log.txt');
  }

  handle(command: HostCommand): void {
    if (command.type === 'start') return this.start(command);
    if (this.phase === 'idle') {
      if (command.type === 'stop') return this.end({ ok: true });
      return this.reject(command.type, 'no run has started in this process; send start first');
    }
    if (this.phase === 'ended') return this.reject(command.type, 'the run has ended');
    this.enqueue(command.type, () => this.apply(command));
  }

  private start(command: StartCommand): void {
    if (this.phase !== 'idle') return this.reject('start', 'this process already runs a training; start another process for another run');
    this.phase = 'starting';
    this.log(`starting with settings from ${command.configFile ?? (command.config ? 'the editor' : `${command.resumeRunDir}/config.json`)}`);
    this.enqueue('start', async () => {
      let trainer: TrainingRun;
      try {
        const { config, warnings } = await readStartSettings(command);
        trainer = await createTrainingRun(config, { workspaceRoot: command.workspaceRoot, resumeRunDir: command.resumeRunDir });
        for (const message of warnings) this.send({ type: 'warning', message });
      } catch (e) {
        return this.end({ ok: false, error: e });
      }
      this.trainer = trainer;
      this.phase = 'training';
      trainer.on((e) => this.relay(trainer, e));
      void this.train(trainer);
    });
  }

  private async train(trainer: TrainingRun): Promise<void> {
    let end: SessionEnd = { ok: true };
    try {
      await trainer.train();
    } catch (e) {
      end = { ok: false, error: e };
    }
    this.phase = 'ended'; // before close: a command still queued must not touch a closed trainer
    try {
      await trainer.close();
    } catch (e) {
      if (end.ok) end = { ok: false, error: e };
    }
    this.end(end);
  }

  private async apply(command: Command): Promise<void> {
    const trainer = this.trainer;
    if (this.phase !== 'training' || !trainer) return; // the start failed or the run ended while this waited
    switch (command.type) {
      case 'pause':
        this.hostPaused = true;
        trainer.pause();
        return;
      case 'resume':
        this.hostPaused = false;
        this.wake(() => trainer.resume());
        return;
      case 'step':
        if (!this.hostPaused) throw new UserError('step: training is running; pause it first (step runs one iteration while paused)');
        this.wake(() => trainer.step());
        return;
      case 'stop':
        this.log('stopping after the current iteration, with a checkpoint');
        this.wake(() => trainer.stop());
        return;
      case 'set-live': {
        // Only the fields sent: an absent one keeps its current value.
        const { type: _type, ...change } = command;
        trainer.setLive(change);
        return;
      }
      case 'save-checkpoint':
        return this.checkpointAtBoundary(trainer);
    }
  }

  private relay(trainer: TrainingRun, e: TrainerEvent): void {
    switch (e.type) {
      case 'paused':
        this.atBoundary = true;
        if (this.checkpointWanted) {
          this.checkpointWanted = false;
          const pausedForCheckpoint = !this.hostPaused;
          this.enqueue('save-checkpoint', () => this.checkpointAtBoundary(trainer, pausedForCheckpoint ? e.iteration : undefined));
          if (pausedForCheckpoint) return; // the host never asked for this pause
        }
        break;
      case 'resumed':
        if (this.hideNextResumed) {
          this.hideNextResumed = false;
          return;
        }
        break;
      case 'no-learning-signal':
        // The editor's policy: a run that teaches nothing waits for the user, who is told why
        // and can resume. Paused here, in the trainer's own turn, it stops at the boundary that
        // follows; a pause sent back by the host could arrive an iteration late.
        this.hostPaused = true;
        trainer.pause();
        break;
      case 'iteration-started':
      case 'finished':
        this.atBoundary = false;
        break;
      default:
        break;
    }
    this.send(e);
  }

  /**
   * Saves now if the trainer waits between iterations, else pauses it at the end of this one
   * and saves then: weights change throughout an iteration. `pausedAt`: the session paused
   * the trainer only for this, at that iteration, so it lets it continue afterwards.
   */
  private async checkpointAtBoundary(trainer: TrainingRun, pausedAt?: number): Promise<void> {
    if (this.phase !== 'training') return;
    if (!this.atBoundary) {
      // Not there yet, or a command queued before this one woke the trainer again.
      this.checkpointWanted = true;
      trainer.pause();
      this.log('a checkpoint will be saved when the current iteration ends');
      return;
    }
    try {
      await trainer.saveCheckpoint();
    } finally {
      if (pausedAt !== undefined && this.hostPaused) {
        this.send({ type: 'paused', iteration: pausedAt }); // a pause queued before this save: now the host's
      } else if (pausedAt !== undefined) {
        this.hideNextResumed = true;
        this.wake(() => trainer.resume());
      }
    }
  }

  private wake(command: () => void): void {
    this.atBoundary = false;
    command();
  }

  private enqueue(command: string, work: () => Promise<void> | void): void {
    this.queue = this.queue.then(work).catch((e: unknown) => this.reject(command, e instanceof Error ? e.message : String(e)));
  }

  private reject(command: string, reason: string): void {
    this.send({ type: 'command-rejected', command, reason });
  }

  private log(line: string): void {
    this.send({ type: 'log', line });
  }

  private end(end: SessionEnd): void {
    this.phase = 'ended';
    this.endRun(end);
  }
}
