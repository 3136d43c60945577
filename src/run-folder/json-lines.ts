import { readFile } from 'node:fs/promises';
import { UserError } from '../errors';

/**
 * The objects of a JSONL file, or [] when it does not exist. A kill while appending leaves
 * the last line cut off, so an unparsable last line is dropped; an unparsable line before it
 * means the file was damaged some other way, which the user must hear about.
 */
export async function readJsonLines(file: string): Promise<unknown[]> {
  const text = await readOptionalText(file);
  if (text === undefined) return [];
  const lines = text.split('\n');
  const values: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    try {
      values.push(JSON.parse(lines[i]));
    } catch (e) {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (isLast) break;
      throw new UserError(`${file}: line ${i + 1} is not JSON (${(e as Error).message}); delete that line or the run folder`);
    }
  }
  return values;
}

/** The parsed JSON of a whole file, or undefined when it does not exist. */
export async function readOptionalJson(file: string): Promise<unknown> {
  const text = await readOptionalText(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not JSON (${(e as Error).message}); the file was damaged, delete it or the run folder`);
  }
}

async function readOptionalText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
