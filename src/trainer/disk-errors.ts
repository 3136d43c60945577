// A write to the run folder that fails for a reason the user can fix (a full disk or quota, a
// read-only folder, a file where a folder should be) becomes one message that names the path
// and the fix. Any other error passes through unchanged: it is a bug, not the user's to fix.
import { UserError } from '../errors';

const FIXES: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some, or set output_dir to a disk with room',
  EDQUOT: 'the disk quota is used up; free some, or set output_dir to a disk with room',
  EACCES: 'permission denied; make the folder writable (chmod u+w), or set output_dir to one that is',
  EPERM: 'operation not permitted; make the folder writable, or set output_dir to one that is',
  EROFS: 'the file system is read-only; set output_dir to a writable disk',
  ENOTDIR: 'a file is where a folder should be; move that file away',
};

/**
 * `e` as a UserError naming `target` (what was being written), the path that failed when it
 * is another one, and the fix; `after` says what is still safe, e.g. the intact checkpoint.
 */
export function runWriteError(e: unknown, target: string, after: string): unknown {
  const err = e as NodeJS.ErrnoException;
  // mkdir of a folder whose name a file holds fails with EEXIST: the same fix as ENOTDIR.
  const code = err.code === 'EEXIST' && err.syscall === 'mkdir' ? 'ENOTDIR' : err.code;
  const fix = e instanceof Error && typeof code === 'string' ? FIXES[code] : undefined;
  if (!fix) return e;
  const where = err.path && err.path !== target ? ` (${err.syscall ?? 'write'} of ${err.path} failed with ${err.code})` : ` (${err.syscall ?? 'write'} failed with ${err.code})`;
  return new UserError(`cannot write ${target}${where}: ${fix}; ${after}`);
}
