// Reading a final answer out of free text, for exact-answer rewards.

/** What follows the last "####" on its line, or else the last number in the text. */
export function finalAnswer(text: string): string | undefined {
  const marker = text.lastIndexOf('####');
  if (marker >= 0) {
    const after = text.slice(marker + 4).split('\n')[0].trim();
    if (after !== '') return after;
  }
  return text.match(/-?\d[\d,]*(?:\.\d+)?/g)?.at(-1);
}

/** "1,000", "$1000" and "1000.0" read as 1000; anything else is not a number. */
function asNumber(s: string): number | undefined {
  const t = s.replace(/[,$\s]/g, '').replace(/\.$/, '');
  return /^-?\d+(?:\.\d+)?$/.test(t) ? Number(t) : undefined;
}

/** Same number by value, or else the same text ignoring case and surrounding space. */
export function sameAnswer(a: string, b: string): boolean {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== undefined && y !== undefined) return x === y;
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
