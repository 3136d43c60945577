/**
 * An error the user caused and can fix: a bad file, a bad flag, an unsupported option.
 * The CLI prints its message as one line and exits non-zero; no stack trace.
 * Messages name the file (or flag), the field, and what to do instead.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Internal invariant; a failure here is a bug in GRPO Studio, not in the user's input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`internal error: ${message}`);
}
