// Shared pieces of the fuzz tests (test/fuzz-*.test.ts): one fixed seed, run limits, and
// mutations of real, valid files (bytes flipped, cut, spliced; JSON fields dropped, retyped,
// made huge or deeply nested). A parser under fuzz must parse its input or throw a UserError
// that names the file: never a TypeError or RangeError, never a hang.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../../src/errors';

/** Every fuzz test uses this seed, so a failure reproduces run after run (fast-check prints the path to it). */
export const FUZZ_SEED = 1313;

/**
 * fast-check settings: the fixed seed, a per-input time limit (a hang fails the input) and a
 * limit for the whole property, which keeps CI time bounded even on a slow machine.
 */
export function fuzzParameters<T>(numRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns, timeout: 5_000, interruptAfterTimeLimit: 20_000, endOnFailure: true, reporter: shortReport };
}

/** fast-check's report, with the counterexample cut short: a mutated model file is megabytes of text. */
function shortReport<T>(run: fc.RunDetails<T>): void {
  if (!run.failed) return;
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}... (${s.length} characters)` : s);
  const error = run.errorInstance instanceof Error ? (run.errorInstance.stack ?? run.errorInstance.message) : String(run.errorInstance);
  throw new Error(
    `property failed after ${run.numRuns} inputs (seed ${run.seed}, path "${run.counterexamplePath}")\n` +
      `${cut(error, 3_000)}\ncounterexample: ${cut(fc.stringify(run.counterexample), 1_000)}`,
  );
}

/** Counts inputs tried and outcomes, and reports them as a test diagnostic ("fuzz <name>: N inputs, ..."). */
export class FuzzCount {
  inputs = 0;
  parsed = 0;
  refused = 0;

  constructor(private readonly name: string) {}

  /** Called once per generated input, which may be parsed several ways. */
  next(): void {
    this.inputs++;
  }

  report(t: TestContext): void {
    t.diagnostic(`fuzz ${this.name}: ${this.inputs} inputs; ${this.parsed} parses succeeded, ${this.refused} refused with a UserError`);
  }
}

/**
 * Runs `parse`; it must return, or throw a UserError of at most a few lines whose message
 * holds every string of `mustName` (the file, a field). Returns the result, or undefined
 * when it was refused.
 */
export async function parsesOrRefuses<T>(count: FuzzCount, parse: () => Promise<T> | T, mustName: readonly string[]): Promise<T | undefined> {
  try {
    const result = await parse();
    count.parsed++;
    return result;
  } catch (e) {
    if (!(e instanceof UserError)) {
      throw new Error(`expected a UserError, got ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    }
    for (const name of mustName) {
      assert.ok(e.message.includes(name), `the error should name ${JSON.stringify(name)}: ${e.message.slice(0, 400)}`);
    }
    assert.ok(e.message.length < 2_000, `the error message is ${e.message.length} characters long: ${e.message.slice(0, 200)}...`);
    count.refused++;
    return undefined;
  }
}

// ---- byte mutations ----

type ByteEdit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x22, 0x2c, 0x7b, 0x7d, 0x5b, 0x5d, 0x30, 0x39) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
);

function applyByteEdit(bytes: Uint8Array, edit: ByteEdit, focus: { start: number; end: number }): Uint8Array {
  const at = focus.start + Math.floor(edit.at * Math.max(1, Math.min(bytes.length, focus.end) - focus.start));
  const i = Math.min(at, bytes.length);
  const out = Buffer.from(bytes);
  switch (edit.kind) {
    case 'flip':
      if (i < out.length) out[i] ^= 1 << edit.bit;
      return out;
    case 'set':
      if (i < out.length) out[i] = edit.value;
      return out;
    case 'insert':
      return Buffer.concat([out.subarray(0, i), edit.bytes, out.subarray(i)]);
    case 'delete':
      return Buffer.concat([out.subarray(0, i), out.subarray(i + edit.length)]);
    case 'truncate':
      return out.subarray(0, i);
    case 'duplicate':
      return Buffer.concat([out.subarray(0, i + edit.length), out.subarray(i)]);
  }
}

/**
 * `original` with 1 to `maxEdits` byte edits; `focus` (a byte range) is where they land, e.g.
 * a safetensors header, so that most mutants reach the parser's checks rather than only its first one.
 */
export function mutatedBytes(original: Uint8Array, opts: { maxEdits?: number; focus?: { start: number; end: number } } = {}): fc.Arbitrary<Uint8Array> {
  const focus = opts.focus ?? { start: 0, end: original.length };
  return fc.array(byteEdit, { minLength: 1, maxLength: opts.maxEdits ?? 4 }).map((edits) => edits.reduce((b, e) => applyByteEdit(b, e, focus), original));
}

/** The text of a UTF-8 file with byte edits (which may leave invalid UTF-8, as a damaged file does). */
export function mutatedText(original: string, maxEdits = 4): fc.Arbitrary<string> {
  return mutatedBytes(Buffer.from(original, 'utf8'), { maxEdits }).map((b) => Buffer.from(b).toString('utf8'));
}

// ---- JSON mutations ----

/** JSON text that is hard to get right: numbers past 2^53 and past float range, deep nesting, long strings. */
export const nastyJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e12', '1e300', '1e999', '-1e999', '-1', '-0', '0', '0.5', '-2.5', '4294967296', '9007199254740993', '1152921504606846976',
    '123456789012345678901234567890', 'true', 'false', 'null', '""', '"x"', '[]', '{}', '[null]', '[1e999]', '{"__proto__": {"polluted": 1}}',
    '"\\ud800"', '"\\u0000"', '{"constructor": "x", "toString": 1}',
  ),
  fc.integer({ min: 1_000, max: 200_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 1_000, max: 100_000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.integer({ min: 10_000, max: 2_000_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

type JsonPath = (string | number)[];

function pathsOf(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

/** One structural change to a JSON document, and the path it changed (for "the error names the field"). */
export interface JsonMutant {
  text: string;
  path: JsonPath;
  kind: 'drop' | 'replace' | 'add';
}

const MARK = '\u0001fuzz-value\u0001';

function withMarkAt(root: unknown, path: JsonPath, kind: 'drop' | 'replace' | 'add', key: string): unknown {
  const copy = structuredClone(root);
  if (path.length === 0) return kind === 'drop' ? {} : kind === 'add' && typeof copy === 'object' && copy !== null ? { ...copy, [key]: MARK } : MARK;
  let parent = copy as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (kind === 'drop') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (kind === 'add') {
    const target = parent[last];
    if (Array.isArray(target)) target.push(MARK);
    else if (typeof target === 'object' && target !== null) (target as Record<string, unknown>)[key] = MARK;
    else parent[last] = MARK;
  } else {
    parent[last] = MARK;
  }
  return copy;
}

/**
 * `original` (a parsed JSON document) with one field dropped, replaced by a nasty value
 * (wrong type, huge, deeply nested), or a nasty field added; written back as text.
 */
export function mutatedJson(original: unknown): fc.Arbitrary<JsonMutant> {
  const paths = pathsOf(original);
  return fc
    .record({
      path: fc.constantFrom(...paths),
      kind: fc.constantFrom('drop' as const, 'replace' as const, 'replace' as const, 'add' as const),
      key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'extra', 'x'.repeat(5_000)), fc.string({ maxLength: 12 })),
      value: nastyJsonText,
    })
    .map(({ path, kind, key, value }) => {
      const text = JSON.stringify(withMarkAt(original, path, kind, key)).replace(JSON.stringify(MARK), () => value);
      return { text, path, kind };
    });
}

/** Several structural mutations, then (sometimes) byte edits on top. */
export function mutatedJsonText(original: unknown): fc.Arbitrary<string> {
  return fc.oneof(
    mutatedJson(original).map((m) => m.text),
    mutatedJson(original).chain((m) => mutatedText(m.text.length < 100_000 ? m.text : '{}', 3)),
    mutatedText(JSON.stringify(original, null, 2), 6),
  );
}
