/**
 * Finds user stop strings in a growing completion. Only the tail is decoded each step:
 * enough tokens to hold the longest stop string even if every token were one byte.
 */
export class StopStringMatcher {
  private readonly tailTokens: number;

  constructor(
    private readonly stops: string[],
    private readonly decode: ((ids: number[]) => string) | undefined,
  ) {
    if (!decode) throw new Error('internal error: stop strings need a decode function');
    // UTF-8 needs up to 4 bytes a character; +1 covers a token that straddles the start.
    this.tailTokens = 4 * Math.max(...stops.map((s) => s.length)) + 1;
  }

  /** Characters of decoded text before the first stop string, or undefined if none occurs. */
  check(ids: number[]): number | undefined {
    const tail = this.decode!(ids.slice(-this.tailTokens));
    if (!this.stops.some((s) => tail.includes(s))) return undefined;
    const text = this.decode!(ids);
    const before = textBeforeStop(text, this.stops).length;
    return before < text.length ? before : undefined;
  }
}

/** `text` up to the first of `stops` in it (all of it where none occurs). */
export function textBeforeStop(text: string, stops: readonly string[]): string {
  let first = text.length;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && at < first) first = at;
  }
  return text.slice(0, first);
}
