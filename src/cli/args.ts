// Typed reads of parsed flags (./flags). Messages name the flag; the CLI puts "grpo <command>:"
// in front of them.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors';
import type { Values } from './flags';

export function requireString(values: Values, flag: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') throw new UserError(`--${flag} is required`);
  return v;
}

export function numberFlag(values: Values, flag: string, fallback: number, check: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const range = `${check.min ?? '-inf'}..${check.max ?? 'inf'}`;
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || (check.integer && !Number.isInteger(n))) {
    throw new UserError(`--${flag} must be ${check.integer ? 'an integer' : 'a number'} in ${range}, got "${String(raw)}"`);
  }
  if ((check.min !== undefined && n < check.min) || (check.max !== undefined && n > check.max)) {
    throw new UserError(`--${flag} must be in ${range}, got ${n}`);
  }
  return n;
}

/** "1,5,9" -> [1, 5, 9], each a non-negative integer. */
export function idListFlag(flag: string, raw: string): number[] {
  const ids = raw.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s))) {
    throw new UserError(`--${flag} must be comma-separated token ids such as 1,5,9, got "${raw}"`);
  }
  return ids.map(Number);
}

/** The path a flag names, which must exist as a file (or folder): caught here, the message names the flag. */
export function existingPath(flag: string, path: string, kind: 'file' | 'folder'): string {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new UserError(`--${flag} ${path}: not found (looked at ${resolve(path)})`);
  }
  if (kind === 'file' && !stats.isFile()) throw new UserError(`--${flag} ${path}: is a folder; give a file`);
  if (kind === 'folder' && !stats.isDirectory()) throw new UserError(`--${flag} ${path}: is a file; give a folder`);
  return path;
}
