// adapter.json at the top of a LoRA run's folder (written by src/trainer/trainer.ts when the run
// starts): what the Runs view and the dashboard say the run trains. A full fine-tuning run has
// none. The file only labels the run, so one that cannot be read is reported, never thrown:
// a damaged label must not keep the user from the run's view or dashboard.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adapterInfo } from '../protocol/dashboard-messages';
import { ADAPTER_INFO_FILE, type AdapterInfo } from '../trainer/adapter-info';

export interface AdapterFileRead {
  /** The run's adapter; undefined for a full fine-tuning run and for a file that could not be read. */
  adapter?: AdapterInfo;
  /** Why the file could not be read, naming it, for the log. */
  problem?: string;
}

export async function readAdapterFile(runDir: string): Promise<AdapterFileRead> {
  const file = join(runDir, ADAPTER_INFO_FILE);
  const unread = (why: string): AdapterFileRead => ({
    problem: `${file}: ${why}; the run's adapter line is left out (the trainer writes this file when a LoRA run starts or resumes; delete it if it was edited by hand)`,
  });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return unread(`cannot be read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return unread(`not JSON (${(e as Error).message})`);
  }
  const problem = adapterInfo.check(json, '');
  if (problem) return unread(problem);
  return { adapter: json as AdapterInfo };
}
