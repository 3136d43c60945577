// The one flag grammar of every `grpo` command. A name may be spelt with dashes or with
// underscores (--learning-rate is --learning_rate): earlier GRPO scripts and TRL write
// underscores, Unix tools dashes, and a user should not have to remember which command is
// which. Values follow as `--name value` or `--name=value`; a value may begin with one dash
// (`--kl_coef -0.1`), while one that begins with two must be written `--name=--value`, so a
// forgotten value is caught instead of swallowing the next flag. Switches are `--name`,
// `--name=true|false` or `--no-name`.
import { UserError } from '../errors';
import { closestKey } from '../trainer/config-fields';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
}
export type FlagSpecs = Record<string, FlagSpec>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** Dashes and underscores are one spelling. */
const spelling = (name: string): string => name.replace(/-/g, '_');

/**
 * Reads `argv` against `specs`; the values are keyed by the names as `specs` spells them.
 * Unknown flags (with the closest known one), missing values, repeats and stray arguments
 * are UserErrors that name the flag.
 */
export function parseFlags(command: string, argv: readonly string[], specs: FlagSpecs): Values {
  const byName = new Map(Object.keys(specs).map((name) => [spelling(name), name]));
  const help = `(see grpo ${command} --help)`;
  const values: Values = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') || arg === '--') {
      throw new UserError(`unexpected argument "${arg}": every argument is a --flag or the value after one ${help}`);
    }
    const eq = arg.indexOf('=');
    const written = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    let name = byName.get(spelling(written));
    let negated = false;
    if (name === undefined && /^no[-_]/.test(written)) {
      const base = byName.get(spelling(written.slice(3)));
      negated = base !== undefined && specs[base].type === 'boolean';
      if (negated) name = base;
    }
    if (name === undefined) throw new UserError(unknownFlagMessage(written, [...byName.values()], help));
    const spec = specs[name];
    let value: string | boolean;
    if (negated) {
      if (inline !== undefined) throw new UserError(`--${written} takes no value; write --${written} alone`);
      value = false;
    } else if (spec.type === 'boolean') {
      value = switchValue(written, inline);
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new UserError(`--${written} needs a value: --${written} VALUE, or --${written}=VALUE for a value that begins with "--"`);
      }
      value = next;
      i++;
    }
    if (spec.multiple) {
      values[name] = [...((values[name] as string[] | undefined) ?? []), value as string];
    } else {
      if (values[name] !== undefined) throw new UserError(`--${written} is given twice; give it once`);
      values[name] = value;
    }
  }
  return values;
}

function switchValue(written: string, inline: string | undefined): boolean {
  if (inline === undefined || inline === 'true') return true;
  if (inline === 'false') return false;
  throw new UserError(`--${written} is a switch: write --${written}, --${written}=false or --no-${written}, not "${inline}"`);
}

function unknownFlagMessage(written: string, known: string[], help: string): string {
  const close = closestKey(spelling(written), known.map(spelling));
  const suggestion = close === undefined ? undefined : known.find((k) => spelling(k) === close);
  return `unknown flag --${written}${suggestion === undefined ? '' : `; did you mean --${suggestion}?`} ${help}`;
}
