// Typed reads of a request body's fields. Each refusal is a 400 that names the field by its
// path in the body (`samples[3].completion`) and says what it must be.
import { quoteName, quoteValue } from '../error-text';
import { closestKey } from '../trainer/config-fields';
import { RequestError } from './request-error';

export type JsonObject = Record<string, unknown>;

const refuse = (message: string) => new RequestError(400, message);

/** `what` is how a message names the value: "the request body", or a field's path. */
export function requireObject(v: unknown, what: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw refuse(`${what} must be a JSON object, got ${quoteValue(v)}`);
  return v as JsonObject;
}

export function requireArray(v: unknown, at: string, hint: string): unknown[] {
  if (v === undefined) throw refuse(`${at} is missing; ${hint}`);
  if (!Array.isArray(v)) throw refuse(`${at} must be an array, got ${quoteValue(v)}; ${hint}`);
  return v;
}

export function requireString(v: unknown, at: string): string {
  if (v === undefined) throw refuse(`${at} is missing; give it as a string`);
  if (typeof v !== 'string') throw refuse(`${at} must be a string, got ${quoteValue(v)}`);
  return v;
}

export function optionalCount(v: unknown, at: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw refuse(`${at} must be a whole number >= 0, got ${quoteValue(v)}`);
  return v;
}

/** Token ids: whole numbers >= 0. */
export function optionalIds(v: unknown, at: string): number[] {
  if (v === undefined) return [];
  const ids = requireArray(v, at, 'give the token ids as an array of whole numbers');
  const bad = ids.findIndex((id) => typeof id !== 'number' || !Number.isInteger(id) || id < 0);
  if (bad >= 0) throw refuse(`${at}[${bad}] must be a token id (a whole number >= 0), got ${quoteValue(ids[bad])}`);
  return ids as number[];
}

/** Unknown keys are refused: a misspelt optional field ("completionIds") would otherwise be dropped unseen. */
export function refuseUnknownKeys(o: JsonObject, known: readonly string[], at: string): void {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    const close = closestKey(key, known);
    const where = at === '' ? key : `${at}.${key}`;
    throw refuse(`unknown field ${quoteName(where)}${close === undefined ? `; the fields are ${known.join(', ')}` : `; did you mean ${close}?`}`);
  }
}

/** Lists that pair up by index must be as long as the first. */
export function requireSameLength(list: readonly unknown[], at: string, reference: readonly unknown[], referenceAt: string): void {
  if (list.length !== reference.length) {
    throw refuse(`${at} has ${list.length} entries but ${referenceAt} has ${reference.length}; send one per ${referenceAt} entry, in the same order`);
  }
}
