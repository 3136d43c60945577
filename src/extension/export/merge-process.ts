// Runs `grpo merge` in a child process, the way `grpo rescore` is run: the extension host never
// computes tensors, and folding an adapter into its base is a pass over every weight. Imports
// neither `vscode` nor TF.js.
import { execFile } from 'node:child_process';
import { cliFailureMessage } from '../cli-failure';

export interface MergeProcessOptions {
  /** The bundled CLI: out/cli.js. */
  cliScript: string;
  /** The Node executable (grpo.nodePath). Default: this process's own (in VS Code, Electron run as Node). */
  nodePath?: string;
  /** A PEFT adapter folder: a LoRA run's checkpoint. */
  adapterDir: string;
  /** An empty or new folder that receives the merged model. */
  outDir: string;
  /** --backend (grpo.backend); the CLI's default when absent. */
  backend?: string;
  signal?: AbortSignal;
}

export type MergeOutcome =
  | { type: 'merged' }
  /** The CLI's one-line reason (a base model folder that is gone, an adapter it cannot read). */
  | { type: 'failed'; message: string }
  | { type: 'cancelled' };

export function runMerge(opts: MergeProcessOptions): Promise<MergeOutcome> {
  const node = opts.nodePath ?? process.execPath;
  const args = [opts.cliScript, 'merge', '--adapter', opts.adapterDir, '--out', opts.outDir, ...(opts.backend ? ['--backend', opts.backend] : [])];
  return new Promise((resolve) => {
    execFile(
      node,
      args,
      {
        // A relative base_model_name_or_path is looked up from the adapter folder first, then
        // from here: the same folder, whatever the editor's own working folder is.
        cwd: opts.adapterDir,
        // ELECTRON_RUN_AS_NODE makes VS Code's Electron binary a plain Node; Node ignores it.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        signal: opts.signal,
        encoding: 'utf8',
      },
      (error, _stdout, stderr) => {
        if (opts.signal?.aborted) return resolve({ type: 'cancelled' });
        if (error) return resolve({ type: 'failed', message: cliFailureMessage('merge', error, stderr, node) });
        resolve({ type: 'merged' });
      },
    );
  });
}
