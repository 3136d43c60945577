import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Parses a subcommand's flags; unknown flags and missing values are user errors. */
export function parseFlags(command: string, argv: string[], options: Options): Values {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    throw new UserError(`grpo ${command}: ${(e as Error).message.split('\n')[0]} (see grpo ${command} --help)`);
  }
}

export function requireString(command: string, values: Values, flag: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') throw new UserError(`grpo ${command}: --${flag} is required`);
  return v;
}

export function numberFlag(command: string, values: Values, flag: string, fallback: number, check: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const range = `${check.min ?? '-inf'}..${check.max ?? 'inf'}`;
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || (check.integer && !Number.isInteger(n))) {
    throw new UserError(`grpo ${command}: --${flag} must be ${check.integer ? 'an integer' : 'a number'} in ${range}, got "${String(raw)}"`);
  }
  if ((check.min !== undefined && n < check.min) || (check.max !== undefined && n > check.max)) {
    throw new UserError(`grpo ${command}: --${flag} must be in ${range}, got ${n}`);
  }
  return n;
}

/** "1,5,9" -> [1, 5, 9], each a non-negative integer. */
export function idListFlag(command: string, flag: string, raw: string): number[] {
  const ids = raw.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s))) {
    throw new UserError(`grpo ${command}: --${flag} must be comma-separated token ids such as 1,5,9, got "${raw}"`);
  }
  return ids.map(Number);
}
