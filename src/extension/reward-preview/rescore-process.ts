// Runs `grpo rescore --json` in a child process, the way the trainer is started: reward code is
// user code and never runs in the extension host. Imports neither `vscode` nor TF.js.
import { execFile } from 'node:child_process';
import { rescoreReportProblem, type RescoreReport } from '../../rescore/report';
import { cliFailureMessage } from '../cli-failure';
import { untrustedRefusal } from '../trust';

export interface RescoreProcessOptions {
  /** The bundled CLI: out/cli.js. */
  cliScript: string;
  /** The Node executable (grpo.nodePath). Default: this process's own (in VS Code, Electron run as Node). */
  nodePath?: string;
  /** Reward file names in the report are relative to it. */
  cwd: string;
  runDir: string;
  /** Score with these reward files instead of the run's. */
  rewardFiles?: readonly string[];
  signal?: AbortSignal;
  /**
   * vscode.workspace.isTrusted, asked for by every caller: rescoring runs the reward files, so
   * in Restricted Mode nothing is started (src/extension/trust.ts).
   */
  workspaceTrusted: boolean;
}

export type RescoreOutcome =
  | { type: 'report'; report: RescoreReport }
  /** The user's to fix (a reward that does not compile, a run without rollouts), in one message. */
  | { type: 'failed'; message: string }
  | { type: 'cancelled' };

// A report carries every completion of a rollout as text; the default 1 MiB is too little for long ones.
const MAX_REPORT_BYTES = 256 * 1024 * 1024;

export function runRescore(opts: RescoreProcessOptions): Promise<RescoreOutcome> {
  const refusal = untrustedRefusal(opts.workspaceTrusted, 'Preview on Last Rollout');
  if (refusal) return Promise.resolve({ type: 'failed', message: refusal });
  const node = opts.nodePath ?? process.execPath;
  const args = [opts.cliScript, 'rescore', '--run', opts.runDir, '--json', ...(opts.rewardFiles ?? []).flatMap((f) => ['--reward', f])];
  return new Promise((resolve) => {
    execFile(
      node,
      args,
      {
        cwd: opts.cwd,
        // ELECTRON_RUN_AS_NODE makes VS Code's Electron binary a plain Node; Node ignores it.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        maxBuffer: MAX_REPORT_BYTES,
        signal: opts.signal,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (opts.signal?.aborted) return resolve({ type: 'cancelled' });
        if (error) return resolve({ type: 'failed', message: cliFailureMessage('rescore', error, stderr, node) });
        resolve(reportFrom(stdout));
      },
    );
  });
}

function reportFrom(stdout: string): RescoreOutcome {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (e) {
    return { type: 'failed', message: `grpo rescore printed something other than its JSON report (${(e as Error).message}); see GRPO: Show Log` };
  }
  const problem = rescoreReportProblem(json);
  if (problem) return { type: 'failed', message: `grpo rescore sent a report this extension does not read (${problem}); the CLI and the extension are different versions` };
  return { type: 'report', report: json as RescoreReport };
}
