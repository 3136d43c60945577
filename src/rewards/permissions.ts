// What a reward file may do, and the Node flags that enforce it. A reward process runs under
// Node's permission model (Node 20+), so a refusal comes from Node itself, for every way of
// reaching the file system or a child process, not from wrappers user code could bypass.
//
// The rule: a reward may read any file (packages, data, the model folder), write only inside
// the workspace and the runs folder, start no child process and no worker thread unless the
// config allows child processes, and signal no process but its own. See README.md here.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { UserError } from '../errors';

export interface RewardPermissions {
  /** Folders a reward may write in, with everything below them. */
  writable: string[];
  /** Whether a reward may start child processes (and worker threads). */
  childProcesses: boolean;
}

/** Where a reward process's permissions are checked against what was asked (see worker.ts). */
export interface PermissionCheck extends RewardPermissions {
  /** A path outside every writable folder: writing there must be refused. */
  outside: string;
}

/** Node 20-23.4 spell it --experimental-permission; later releases --permission. */
function permissionFlag(node: string): string | undefined {
  for (const flag of ['--permission', '--experimental-permission']) {
    const probe = spawnSync(node, [flag, '--allow-fs-read=*', '-e', 'process.exit(process.permission ? 0 : 3)'], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: 'ignore',
      timeout: 10_000,
    });
    if (probe.status === 0) return flag;
  }
  return undefined;
}

let chosen: { node: string; flag: string } | undefined;

/**
 * The Node that runs reward processes, and its permission flag: the trainer's own where it
 * has Node's permission model; else (an editor's runtime built without it) a `node` on PATH
 * that has it. Without one, rewards do not run: confining them is not optional.
 */
export function rewardNode(): { node: string; flag: string } {
  if (chosen) return chosen;
  for (const node of [process.execPath, 'node']) {
    const flag = permissionFlag(node);
    if (flag) return (chosen = { node, flag });
  }
  throw new UserError(
    `${process.execPath} (Node ${process.version}) has no permission model, which reward files run under, and no \`node\` on PATH has one; ` +
      'install Node 20 or later and set grpo.nodePath to it (or put it on PATH)',
  );
}

/**
 * Node's flags for `permissions`. Folders are created and resolved through symbolic links
 * first, since Node matches the real path of what a reward opens.
 */
export function permissionFlags(permissions: RewardPermissions, flag: string): string[] {
  const flags = [flag, '--allow-fs-read=*'];
  for (const folder of realFolders(permissions.writable)) flags.push(`--allow-fs-write=${folder}`);
  if (permissions.childProcesses) flags.push('--allow-child-process', '--allow-worker');
  return flags;
}

/**
 * Each folder, made if missing, as its real path (a link's target is what Node checks), less
 * those inside another: Node 20 loses a folder's grant when a folder below it is granted too.
 */
export function realFolders(folders: readonly string[]): string[] {
  const real = [...new Set(folders.map((f) => {
    const abs = resolve(f);
    if (!existsSync(abs)) mkdirSync(abs, { recursive: true });
    return realpathSync(abs);
  }))];
  return real.filter((f) => !real.some((other) => other !== f && isInside(f, other)));
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
