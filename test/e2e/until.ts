// Waiting in the end-to-end suite: what the editor shows arrives when it arrives.

/** Polls `read` until `ok` holds of its value; fails with the last value seen. */
export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (e) {
      error = e; // the element may not be there yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const seen = last === undefined ? `nothing (${error instanceof Error ? error.message.split('\n')[0] : 'no value'})` : JSON.stringify(last).slice(0, 300);
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last saw ${seen}`);
}
