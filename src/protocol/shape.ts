// A message shape declared once gives both its TypeScript type (Infer) and the check that
// runs on receipt, so the two cannot drift apart. Checks return the first problem found,
// as "path: what was expected, what came", or undefined when the value fits.

export interface Shape<T> {
  readonly check: (value: unknown, path: string) => string | undefined;
  /** Only carries T for Infer; never set. */
  readonly _type?: T;
}

export interface OptionalShape<T> extends Shape<T> {
  readonly optional: true;
}

export type Infer<S> = S extends Shape<infer T> ? T : never;

type Props = Record<string, Shape<unknown>>;
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K] extends OptionalShape<unknown> ? K : never }[keyof P];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<P extends Props> = Simplify<
  { [K in Exclude<keyof P, OptionalKeys<P>>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Infer<P[K]> }
>;

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

function at(path: string, expected: string, got: unknown): string {
  return `${path || 'message'}: expected ${expected}, got ${describeValue(got)}`;
}

/** A finite number (JSON has no NaN or Infinity; those arrive as null). */
export function finite(opts: { min?: number; above?: number } = {}): Shape<number> {
  const { min, above } = opts;
  const what = min !== undefined ? `a number >= ${min}` : above !== undefined ? `a number > ${above}` : 'a finite number';
  return {
    check: (v, p) =>
      typeof v !== 'number' || !Number.isFinite(v) || (min !== undefined && v < min) || (above !== undefined && v <= above) ? at(p, what, v) : undefined,
  };
}

export const integer: Shape<number> = { check: (v, p) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : at(p, 'a non-negative integer', v)) };
export const text: Shape<string> = { check: (v, p) => (typeof v === 'string' ? undefined : at(p, 'a string', v)) };
export const flag: Shape<boolean> = { check: (v, p) => (typeof v === 'boolean' ? undefined : at(p, 'true or false', v)) };

export function oneOf<T extends string>(...values: T[]): Shape<T> {
  return { check: (v, p) => (values.includes(v as T) ? undefined : at(p, values.map((x) => JSON.stringify(x)).join(' or '), v)) };
}

export function nullable<T>(s: Shape<T>): Shape<T | null> {
  return { check: (v, p) => (v === null ? undefined : s.check(v, p)) };
}

export function optional<T>(s: Shape<T>): OptionalShape<T> {
  return { optional: true, check: (v, p) => (v === undefined ? undefined : s.check(v, p)) };
}

export function list<T>(item: Shape<T>): Shape<T[]> {
  return {
    check: (v, p) => {
      if (!Array.isArray(v)) return at(p, 'an array', v);
      for (let i = 0; i < v.length; i++) {
        const problem = item.check(v[i], `${p}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object used as a map, e.g. reward values by function name. */
export function dict<T>(value: Shape<T>): Shape<Record<string, T>> {
  return {
    check: (v, p) => {
      if (!isPlainObject(v)) return at(p, 'an object', v);
      for (const [k, x] of Object.entries(v)) {
        // Keys come from files too: a megabyte-long one must not make a megabyte-long message.
        const problem = value.check(x, `${p}.${k.length > 80 ? `${k.slice(0, 77)}...` : k}`);
        if (problem) return problem;
      }
      return undefined;
    },
  };
}

/** Known fields are checked; unknown ones are allowed so an older webview reads a newer host. */
export function object<P extends Props>(props: P, extra?: (v: ObjectOf<P>, path: string) => string | undefined): Shape<ObjectOf<P>> {
  return {
    check: (v, p) => {
      if (!isPlainObject(v)) return at(p, 'an object', v);
      for (const [k, s] of Object.entries(props)) {
        const problem = s.check(v[k], p ? `${p}.${k}` : k);
        if (problem) return problem;
      }
      return extra?.(v as ObjectOf<P>, p);
    },
  };
}

type Variants = Record<string, Shape<unknown>>;
export type UnionOf<V extends Variants> = { [K in keyof V]: Simplify<{ type: K } & Infer<V[K]>> }[keyof V];

/** A union discriminated by its `type` field, each variant's fields checked by its shape. */
export function tagged<V extends Variants>(variants: V): Shape<UnionOf<V>> {
  return {
    check: (v, p) => {
      if (!isPlainObject(v)) return at(p, 'an object', v);
      if (typeof v.type !== 'string' || !Object.prototype.hasOwnProperty.call(variants, v.type)) {
        return at(p ? `${p}.type` : 'type', `one of ${Object.keys(variants).join(', ')}`, v.type);
      }
      const problem = variants[v.type].check(v, p);
      return problem ? `${v.type} message: ${problem}` : undefined;
    },
  };
}
