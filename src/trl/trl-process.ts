// The Python process running TRL (python/grpo_trl): one JSON object per line each way, its
// stdout for what it sends, its stdin for the replies; its stderr is its log.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LiveSettings } from '../trainer/live-settings';
import { trlPackageRoot } from './python';

/** What python/grpo_trl sends (bridge.py). */
export type TrlMessage =
  | { type: 'ready'; device: string; dtype: string; threads: number; parameters: number; trainable: number; versions: Record<string, string> }
  | { type: 'iteration-started'; iteration: number }
  | { type: 'score'; purpose: 'train' | 'eval'; iteration: number; samples: TrlSample[]; seconds?: number }
  | { type: 'rollout'; score_id: number; samples: TrlRolloutSample[] }
  | { type: 'metrics'; iteration: number; step: number; logs: Record<string, number | null>; seconds: number }
  | { type: 'boundary'; iteration: number }
  | { type: 'checkpoint'; iteration: number; path: string }
  | { type: 'done'; iteration: number; stopped: boolean };

export interface TrlSample {
  row: number;
  completion: string;
  completion_ids: number[];
}

export interface TrlRolloutSample {
  row: number;
  group: number;
  member: number;
  completion_ids: number[];
  finish_reason: 'stop' | 'length';
  advantage: number | null;
  logprobs: (number | null)[];
  ref_logprobs: (number | null)[] | null;
}

/** What the trainer process answers (python/grpo_trl/bridge.py reads it). */
export type TrlReply =
  | { type: 'scores'; id: number; functions: Record<string, (number | null)[]>; added?: Record<string, number> }
  | { type: 'save' }
  | { type: 'continue'; save: boolean; stop: boolean; live: LiveSettings };

export interface TrlProcessHandlers {
  message: (m: TrlMessage) => void;
  log: (line: string) => void;
}

export class TrlProcess {
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(python: string, specFile: string, handlers: TrlProcessHandlers): TrlProcess {
    const child = spawn(python, ['-u', '-m', 'grpo_trl', specFile], {
      cwd: trlPackageRoot(),
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PYTHONPATH: [trlPackageRoot(), process.env.PYTHONPATH].filter(Boolean).join(process.platform === 'win32' ? ';' : ':'),
        // Offline by default: the model is a local folder, and nothing should reach the Hub.
        HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE ?? '1',
        TOKENIZERS_PARALLELISM: 'false',
      },
    });
    const p = new TrlProcess(child);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: TrlMessage;
      try {
        m = JSON.parse(line) as TrlMessage;
      } catch {
        handlers.log(`(not a protocol line) ${line}`);
        return;
      }
      handlers.message(m);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => handlers.log(line));
    child.stdin!.on('error', () => undefined); // a process that died is reported by its exit
    return p;
  }

  send(reply: TrlReply): void {
    if (this.child.exitCode === null && !this.child.stdin!.destroyed) this.child.stdin!.write(JSON.stringify(reply) + '\n');
  }

  /** Resolves when the process has exited. */
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  /** Ends the process: closing its stdin ends it at its next request; SIGKILL after `graceMs`. */
  async kill(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
