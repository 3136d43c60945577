// The kinds of field a settings file can hold. Each kind carries its constraints once, and
// both the validator and the JSON Schema fragment are built from them, so what VS Code
// underlines while typing and what `grpo train` rejects cannot disagree.
import { assert } from '../errors';
import { quoteName, quoteValue } from '../error-text';

/** A JSON Schema (draft-07) fragment. */
export type JsonSchema = { [key: string]: unknown };

/** The value a check accepted, or the words that finish "must be ...". */
export type Checked<T> = { ok: true; value: T } | { ok: false; expected: string };

/** Where a value sits ("rewards[1].") and how relative paths are resolved while reading. */
export interface ReadContext {
  at: string;
  resolvePath?: (p: string) => string;
}

/** A field of a settings file: its documentation, constraints and default. */
export interface Field<T> {
  /** For the user: what it does, why the default, and the paper it comes from. */
  readonly doc: string;
  /** The schema of the value (type and constraints), without description or default. */
  readonly schema: JsonSchema;
  readonly check: (value: unknown, ctx: ReadContext) => Checked<T>;
  /** Absent: the field is required, unless `optional` or `defaultFrom` says otherwise. */
  readonly default?: T;
  /** When the field is absent it takes this other field's value (epsilon_high from epsilon). */
  readonly defaultFrom?: string;
  readonly optional?: true;
  /** Why the constraint exists; added to the message when a value breaks it. */
  readonly why?: string;
}

// `any` only lets fields of different value types share one record type.
export type Fields = Record<string, Field<any>>;
export type FieldValue<F> = F extends Field<infer T> ? T : never;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];
/** The record a set of fields reads into: optional fields are optional properties. */
export type ValuesOf<F extends Fields> = { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: FieldValue<F[K]> } & {
  -readonly [K in OptionalKeys<F>]?: FieldValue<F[K]>;
};

/** A value that breaks a field's rule; the caller adds the file name. */
export class FieldProblem extends Error {}

type Meta = { doc: string; why?: string };
const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const no = (expected: string): Checked<never> => ({ ok: false, expected });

interface Range {
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
}

function rangeWords({ min, max, above, below }: Range): string {
  const lo = min ?? above;
  const hi = max ?? below;
  if (lo !== undefined && hi !== undefined) {
    return `in ${min !== undefined ? '[' : '('}${lo}, ${hi}${max !== undefined ? ']' : ')'}`;
  }
  if (lo !== undefined) return `${min !== undefined ? '>=' : '>'} ${lo}`;
  if (hi !== undefined) return `${max !== undefined ? '<=' : '<'} ${hi}`;
  return '';
}

function inRange(n: number, { min, max, above, below }: Range): boolean {
  if (min !== undefined && n < min) return false;
  if (max !== undefined && n > max) return false;
  if (above !== undefined && n <= above) return false;
  return below === undefined || n < below;
}

function rangeSchema({ min, max, above, below }: Range): JsonSchema {
  const s: JsonSchema = {};
  if (min !== undefined) s.minimum = min;
  if (max !== undefined) s.maximum = max;
  if (above !== undefined) s.exclusiveMinimum = above;
  if (below !== undefined) s.exclusiveMaximum = below;
  return s;
}

type NumberMeta = Meta & Range & { default?: number };

function numberField(isInteger: boolean, meta: NumberMeta): Field<number> {
  const { doc, why, default: dflt, ...range } = meta;
  const words = rangeWords(range);
  const expected = `${isInteger ? 'an integer' : 'a number'}${words ? ` ${words}` : ''}`;
  return {
    doc,
    why,
    default: dflt,
    schema: { type: isInteger ? 'integer' : 'number', ...rangeSchema(range) },
    check: (v) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || (isInteger && !Number.isSafeInteger(v))) return no(expected);
      return inRange(v, range) ? ok(v) : no(expected);
    },
  };
}

export const integer = (meta: NumberMeta): Field<number> => numberField(true, meta);
export const real = (meta: NumberMeta): Field<number> => numberField(false, meta);

/** A real number that takes another field's value when absent. */
export function realFrom(meta: Meta & Range & { from: string }): Field<number> {
  const { from, ...rest } = meta;
  return { ...numberField(false, rest), defaultFrom: from };
}

/** A real number that may be absent (a feature that is off unless given). */
export function optionalReal(meta: Meta & Range): Field<number> & { optional: true } {
  return { ...numberField(false, meta), optional: true };
}

export function flag(meta: Meta & { default: boolean }): Field<boolean> {
  return {
    doc: meta.doc,
    default: meta.default,
    schema: { type: 'boolean' },
    check: (v) => (typeof v === 'boolean' ? ok(v) : no('true or false')),
  };
}

/** true, false, or "auto" where the trainer decides (and its log says how). */
export function flagOrAuto(meta: Meta): Field<boolean | 'auto'> {
  return {
    doc: meta.doc,
    default: 'auto',
    schema: { enum: [true, false, 'auto'] },
    check: (v) => (typeof v === 'boolean' || v === 'auto' ? ok(v) : no('true, false or "auto"')),
  };
}

export function choice<const V extends string>(meta: Meta & { values: readonly V[]; default: V }): Field<V> {
  const expected = `one of ${meta.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return {
    doc: meta.doc,
    default: meta.default,
    schema: { type: 'string', enum: [...meta.values] },
    check: (v) => ((meta.values as readonly unknown[]).includes(v) ? ok(v as V) : no(expected)),
  };
}

function checkPath(v: unknown, ctx: ReadContext): Checked<string> {
  if (typeof v !== 'string' || v === '') return no('a non-empty string (a file or folder path)');
  return ok(ctx.resolvePath ? ctx.resolvePath(v) : v);
}

/** A file or folder path; relative paths are taken from the settings file's folder. */
export function path(meta: Meta & { default?: string }): Field<string> {
  return { doc: meta.doc, default: meta.default, schema: { type: 'string', minLength: 1 }, check: checkPath };
}

export function optionalPath(meta: Meta): Field<string> & { optional: true } {
  return { doc: meta.doc, optional: true, schema: { type: 'string', minLength: 1 }, check: checkPath };
}

function checkTexts(v: unknown): Checked<string[]> {
  const good = Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
  return good ? ok([...(v as string[])]) : no('an array of non-empty strings');
}

export function texts(meta: Meta & { default: string[] }): Field<string[]> {
  return { doc: meta.doc, default: meta.default, schema: { type: 'array', items: { type: 'string', minLength: 1 } }, check: checkTexts };
}

export function optionalTexts(meta: Meta): Field<string[]> & { optional: true } {
  return {
    doc: meta.doc,
    optional: true,
    schema: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    check: (v) => (Array.isArray(v) && v.length === 0 ? no('a non-empty array of names') : checkTexts(v)),
  };
}

/** An array of objects, each read with `itemFields` (their defaults, checks and did-you-mean). */
export function records<F extends Fields>(meta: Meta & { itemFields: F; minItems: number }): Field<ValuesOf<F>[]> {
  return {
    doc: meta.doc,
    why: meta.why,
    schema: { type: 'array', minItems: meta.minItems, items: objectSchema(meta.itemFields) },
    check: (v, ctx) => {
      if (!Array.isArray(v) || v.length < meta.minItems) return no(`an array of at least ${meta.minItems} object${meta.minItems === 1 ? '' : 's'}`);
      return ok(v.map((item, i) => readObject(meta.itemFields, item, { ...ctx, at: `${ctx.at}[${i}].` })));
    },
  };
}

/** An optional object read with `fields` (its defaults, checks and did-you-mean); absent: off. */
export function optionalRecord<F extends Fields>(meta: Meta & { fields: F }): Field<ValuesOf<F>> & { optional: true } {
  return {
    doc: meta.doc,
    optional: true,
    schema: objectSchema(meta.fields),
    check: (v, ctx) => ok(readObject(meta.fields, v, { ...ctx, at: `${ctx.at}.` })),
  };
}

export interface ReadOptions {
  /** Keys accepted and dropped, such as "$schema". */
  ignore?: readonly string[];
  /** Names other tools use (TRL's "warmup_steps") -> what they are here, for a better unknown-key message. */
  aliases?: Readonly<Record<string, string>>;
}

/**
 * Reads a JSON object with `fields`: checks every present value, fills defaults, and
 * rejects unknown keys. Throws FieldProblem naming the field and what it must be.
 */
export function readObject<F extends Fields>(fields: F, raw: unknown, ctx: ReadContext, options: ReadOptions = {}): ValuesOf<F> {
  const where = ctx.at === '' ? 'the file' : `"${ctx.at.slice(0, -1)}"`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FieldProblem(`${where} must be a JSON object, got ${describe(raw)}`);
  }
  const input = raw as Record<string, unknown>;
  const known = Object.keys(fields);
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(fields, key) || options.ignore?.includes(key)) continue;
    throw new FieldProblem(unknownKeyMessage(`${ctx.at}${quoteName(key).slice(1, -1)}`, key, known, options.aliases?.[key], ctx.at));
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    const name = `${ctx.at}${key}`;
    const given = input[key] !== undefined;
    if (!given && field.default === undefined) {
      if (field.optional || field.defaultFrom !== undefined) continue;
      throw new FieldProblem(`field "${name}" is missing; add it: ${field.doc.split('. ')[0].replace(/\.$/, '')}`);
    }
    // Defaults go through the check too: that resolves a default path like any other.
    const value = given ? input[key] : structuredClone(field.default);
    const checked = field.check(value, { ...ctx, at: name });
    assert(given || checked.ok, `the default of ${name} breaks its own rule`);
    if (!checked.ok) {
      throw new FieldProblem(`field "${name}" must be ${checked.expected}, got ${describe(value)}${field.why ? ` (${field.why})` : ''}`);
    }
    out[key] = checked.value;
  }
  for (const [key, field] of Object.entries(fields)) {
    if (field.defaultFrom !== undefined && out[key] === undefined) out[key] = out[field.defaultFrom];
  }
  return out as ValuesOf<F>;
}

function unknownKeyMessage(name: string, key: string, known: string[], alias: string | undefined, at: string): string {
  if (alias !== undefined) return `unknown field "${name}": that is TRL's name; here it is ${alias}`;
  const close = closestKey(key, known);
  if (close !== undefined) return `unknown field "${name}"; did you mean "${at}${close}"?`;
  return `unknown field "${name}"; remove it, or use one of: ${known.join(', ')}`;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : `an array (${quoteValue(v)})`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return quoteValue(v);
}

/** Every field that has a default (fixed, or another field's), at that default. */
export function defaultsOf(fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) if (field.default !== undefined) out[key] = structuredClone(field.default);
  for (const [key, field] of Object.entries(fields)) if (field.defaultFrom !== undefined) out[key] = out[field.defaultFrom];
  return out;
}

/** The JSON Schema of one field: its constraints, description and (static) default. */
export function fieldSchema(field: Field<unknown>): JsonSchema {
  const s: JsonSchema = { description: field.doc, ...field.schema };
  if (field.default !== undefined) s.default = field.default;
  return s;
}

/** The JSON Schema of an object read with `fields`: no unknown keys, required ones listed. */
export function objectSchema(fields: Fields, extraProperties: Record<string, JsonSchema> = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = { ...extraProperties };
  for (const [key, field] of Object.entries(fields)) properties[key] = fieldSchema(field);
  const required = Object.entries(fields)
    .filter(([, f]) => f.default === undefined && !f.optional && f.defaultFrom === undefined)
    .map(([k]) => k);
  return { type: 'object', properties, required, additionalProperties: false };
}

/** Edit distance, for "did you mean" on misspelt keys. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** The known key closest to `key` ("learningRate" -> "learning_rate"), if one is close enough. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  // Edit distance costs key length x known length; a key this long is close to nothing.
  if (key.length > 100) return undefined;
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = Math.min(editDistance(key, k), editDistance(snake, k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}
