// The trainer child process, bundled as out/trainer-process.js. The extension host forks it
// (TrainerProcess, ./client) with an IPC channel, under Electron's Node (ELECTRON_RUN_AS_NODE)
// or a Node the user chose. It runs one training session: it says `ready`, waits for `start`,
// relays every trainer event and applies the host's commands. It owns TF.js, so a crash here
// never takes the editor down; the host learns of it from `fatal` and the exit code.
import { silenceCpuBanner } from '../engine/cpu-banner';
import { UserError } from '../errors';
import { messageType, receiveHostCommand, type TrainerNotification } from '../protocol/trainer-messages';
import { RewardFileError } from '../rewards/compile';
import { toWire } from '../protocol/wire-numbers';
import { TrainingSession } from './session';

if (!process.send) {
  process.stderr.write('trainer-process.js is started by GRPO Studio with an IPC channel (child_process.fork); use `grpo train` on a command line\n');
  process.exit(2);
}

// The host may vanish (the editor crashed): writing to its closed pipes must not kill the
// run before it has stopped cleanly.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

/** Settles once everything sent so far has been handed to the channel (messages keep their order). */
let sent: Promise<void> = Promise.resolve();

function send(notification: TrainerNotification): void {
  if (!process.send || !process.connected) return; // the host is gone; the run still ends cleanly
  sent = new Promise((resolve) => process.send?.(toWire(notification), undefined, undefined, () => resolve()));
}

silenceCpuBanner();
const session = new TrainingSession(send);
let exiting = false;

async function exit(code: number): Promise<void> {
  exiting = true;
  await Promise.race([sent, new Promise((resolve) => setTimeout(resolve, 2000))]);
  process.exit(code);
}

function fatal(error: unknown): void {
  if (exiting) return;
  const userError = error instanceof UserError;
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error && !userError ? error.stack : undefined;
  process.stderr.write(`${stack ?? message}\n`); // the host keeps stderr's tail for a crash report
  const rewardProblem = error instanceof RewardFileError ? error.problem : undefined;
  send({ type: 'fatal', message, stack, userError, logFile: session.logFile, rewardProblem });
  void exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

process.on('message', (raw: unknown) => {
  const received = receiveHostCommand(raw);
  if (received.ok) session.handle(received.message);
  else send({ type: 'command-rejected', command: messageType(raw), reason: received.reason });
});

// The channel closed: the editor quit or crashed. Keep the work done so far and end.
process.on('disconnect', () => session.handle({ type: 'stop' }));

void session.ended.then((end) => (end.ok ? exit(0) : fatal(end.error)));
send({ type: 'ready', pid: process.pid, node: process.version });
