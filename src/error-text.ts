// Values quoted in error messages come from files a user gave us: a "shape" may be a
// megabyte-long array or nested ten thousand deep. Quoting one must neither throw (JSON.stringify
// overflows the stack on deep nesting) nor make a message longer than a line.

/** `value` as JSON for a message, at most `max` characters. */
export function quoteValue(value: unknown, max = 60): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[[[... (an array nested too deep to show)' : '{... (a value nested too deep to show)';
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A name (tensor, field, key) from a file, quoted and cut to `max` characters. */
export function quoteName(name: string, max = 80): string {
  return JSON.stringify(name.length > max ? `${name.slice(0, max - 3)}...` : name);
}
