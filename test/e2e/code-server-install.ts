// A cached, offline install of code-server (VS Code served to a browser) outside the clone.
// code-server's own install script downloads ripgrep and prebuilt native modules, which our
// machines cannot reach; this follows the steps that work offline (issue 5), once per cache.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { codeServerBuildPackages, ensureDebianPackages } from './system-packages';
import { run } from './shell';

/** The last code-server release that runs on Node 20 (VS Code 1.100.3); later ones need Node 22. */
export const codeServerVersion = '4.100.3';
/** Bumped when the steps below change, so that caches built by older steps are rebuilt. */
const recipe = 2;

export interface CodeServerInstall {
  /** code-server's package folder; `out/node/entry.js` in it starts the server. */
  packageDir: string;
  entry: string;
}

export function e2eCacheDir(): string {
  return process.env.GRPO_E2E_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'grpo-studio-e2e');
}

function installOf(prefix: string): CodeServerInstall {
  const packageDir = join(prefix, 'node_modules', 'code-server');
  return { packageDir, entry: join(packageDir, 'out', 'node', 'entry.js') };
}

/** Returns the cached install, building it first when the cache has none (minutes; seconds after). */
export function ensureCodeServer(): CodeServerInstall {
  const prefix = join(e2eCacheDir(), `code-server-${codeServerVersion}-node${process.versions.node.split('.')[0]}-r${recipe}`);
  const done = join(prefix, '.complete');
  if (existsSync(done)) return installOf(prefix);

  ensureDebianPackages(codeServerBuildPackages);
  // Built in a side folder and renamed at the end, so an interrupted setup is never taken as done.
  const partial = `${prefix}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, 'package.json'), '{ "private": true }\n');
  const npm = (cwd: string, ...args: string[]) => run('npm', [...args, '--no-audit', '--no-fund'], { cwd, env: buildEnv() });

  console.log(`e2e setup: installing code-server ${codeServerVersion} into ${prefix}`);
  npm(partial, 'install', '--ignore-scripts', `code-server@${codeServerVersion}`);
  const { packageDir } = installOf(partial);
  const vscodeDir = join(packageDir, 'lib', 'vscode');
  npm(vscodeDir, 'install', '--omit=dev', '--ignore-scripts');
  const rg = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  mkdirSync(dirname(rg), { recursive: true });
  copyFileSync('/usr/bin/rg', rg);
  npm(vscodeDir, 'rebuild', 'kerberos', 'node-pty', '@parcel/watcher', '@vscode/spdlog');
  npm(join(vscodeDir, 'extensions'), 'install', '--omit=dev', '--ignore-scripts');
  // The server looks for node_modules.asar (its Electron layout); a plain folder serves as well.
  symlinkSync('node_modules', join(vscodeDir, 'node_modules.asar'));
  // argon2 (password hashing, loaded at start even with --auth none) is hoisted beside code-server.
  npm(partial, 'rebuild', 'argon2');

  writeFileSync(join(partial, '.complete'), `code-server ${codeServerVersion} on node ${process.versions.node}\n`);
  rmSync(prefix, { recursive: true, force: true });
  renameSync(partial, prefix);
  return installOf(prefix);
}

/** Native rebuilds use this Node's own headers (node-gyp would download them) and answer prompts. */
function buildEnv(): NodeJS.ProcessEnv {
  return { ...process.env, npm_config_yes: 'true', npm_config_nodedir: dirname(dirname(process.execPath)) };
}
