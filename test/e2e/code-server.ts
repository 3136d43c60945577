// One code-server for a test or a look by hand: fresh user-data and extensions folders, the
// built .vsix installed, served on a free loopback port without a password.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeServerInstall } from './code-server-install';

export interface CodeServer {
  /** The workbench, e.g. http://127.0.0.1:40123/ ; add `?folder=/abs/path` to open a folder. */
  url: string;
  userDataDir: string;
  /** Ends the server (and the extension host and trainer under it). */
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  install: CodeServerInstall;
  vsix: string;
  /** Where the server's own output goes. */
  logFile: string;
  port?: number;
  /** User settings besides the suite's own (grpo.pythonPath for the trl engine). */
  settings?: Record<string, unknown>;
}

/** User settings that keep the workbench quiet and the same from run to run. */
const userSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'files.autoSave': 'off',
  'editor.minimap.enabled': false,
  // Text the suite types lands as typed: no closing brackets or indentation added.
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  // Problems then lists only what the extension reports, not TypeScript's own checks.
  'typescript.validate.enable': false,
  'javascript.validate.enable': false,
  // The trust dialog is part of what the suite checks: asked once per folder, as for a new user.
  'security.workspace.trust.startupPrompt': 'once',
};

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const home = mkdtempSync(join(tmpdir(), 'grpo-e2e-code-server-'));
  const userDataDir = join(home, 'user-data');
  const extensionsDir = join(home, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...userSettings, ...options.settings }, null, 2));
  const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  const installed = spawnSync(process.execPath, [options.install.entry, ...dirs, '--install-extension', options.vsix], { encoding: 'utf8' });
  if (installed.status !== 0) {
    throw new Error(`code-server --install-extension ${options.vsix} failed:\n${installed.stdout}${installed.stderr}`);
  }

  const port = options.port ?? (await freePort());
  const log = createWriteStream(options.logFile);
  const server = spawn(
    process.execPath,
    [options.install.entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', ...dirs],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  server.stdout!.pipe(log);
  server.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}/`;
  await waitForHealth(url, server);
  return { url, userDataDir, stop: () => stopGroup(server) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHealth(url: string, server: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited with code ${server.exitCode} before it served ${url}`);
    try {
      if ((await fetch(new URL('healthz', url))).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer on ${url} within ${timeoutMs / 1000} s`);
}

/** The server was started as a process group leader: its extension host and trainers go with it. */
async function stopGroup(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.pid === undefined) return;
  const group = -server.pid;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(group, s);
    } catch {
      // the group has already gone
    }
  };
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  signal('SIGTERM');
  const forced = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(forced);
}
