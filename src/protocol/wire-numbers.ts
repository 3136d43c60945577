// Node's IPC channel serialises messages as JSON, which turns NaN and the infinities into
// null. A NaN reward mean is news the dashboard must show (a failing reward function), so
// across the trainer process boundary non-finite numbers travel as `{ $number: "NaN" }`.
// JSON rather than the 'advanced' (V8) serialisation: the editor's Electron and a user-chosen
// Node may run different V8 versions, and V8's format is not readable by older versions.

const MARKER = '$number';

/** A message (a plain object) with every non-finite number in it replaced by a marker. */
export function toWire(message: object): object {
  return Object.fromEntries(Object.entries(message).map(([k, v]) => [k, encode(v)]));
}

function encode(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [MARKER]: String(value) };
  if (Array.isArray(value)) return value.map(encode);
  return typeof value === 'object' && value !== null ? toWire(value) : value;
}

/** The inverse of toWire; anything else passes through unchanged for the receiver's check. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0][0] === MARKER) {
      const n = entries[0][1];
      if (n === 'NaN' || n === 'Infinity' || n === '-Infinity') return Number(n);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, fromWire(v)]));
  }
  return value;
}
