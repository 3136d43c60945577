import { readFile } from 'node:fs/promises';
import { UserError } from '../errors';

export type JsonObject = Record<string, unknown>;

/**
 * Reads a JSON object from `file`. A missing file gives `undefined`: most tokenizer side files
 * (`tokenizer_config.json`, `generation_config.json`, ...) are optional. A file that exists but
 * is not a JSON object is the user's to fix.
 */
export async function readOptionalJsonObject(file: string): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`${file}: cannot be read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message}); fix or replace the file`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(`${file}: expected a JSON object at the top level`);
  }
  return json as JsonObject;
}
