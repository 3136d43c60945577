/**
 * A file-system error on a path, as Node raises it (ENOENT, ENOTDIR, EACCES, ...), in one line
 * that names the path; undefined for any other error. Such errors come from paths the user
 * gave, so they are the user's to fix and get no stack trace.
 */
export function fileSystemProblem(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== 'string' || typeof err.path !== 'string' || typeof err.syscall !== 'string') return undefined;
  const why = WHY[err.code] ?? err.code;
  return `${err.path}: ${why} (${err.syscall} failed with ${err.code}); check the path`;
}

const WHY: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a file where a folder was expected',
  EISDIR: 'a folder where a file was expected',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'on a read-only file system',
};
