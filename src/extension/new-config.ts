// A new grpo.config.json from the parts a user picked: paths relative to the config's folder
// and only the fields that have no default, so the rest stays documented by the schema.
import { readFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';

export interface NewConfigParts {
  /** Where the config will be written. */
  configFile: string;
  modelDir: string;
  dataset: string;
  rewardFiles: readonly string[];
}

export function newTrainingConfigText(parts: NewConfigParts): string {
  const dir = dirname(parts.configFile);
  const rel = (p: string) => {
    const r = relative(dir, p).split(sep).join('/');
    return r === '' ? '.' : r;
  };
  const body = {
    model_path: rel(parts.modelDir),
    dataset_path: rel(parts.dataset),
    rewards: parts.rewardFiles.map((f) => ({ file: rel(f) })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/**
 * Whether a config.json is a Hugging Face model's (it names its architecture), not one of the
 * many other files of that name (a run's settings snapshot, a tool's config).
 */
export function isModelConfigFile(file: string): boolean {
  try {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof json === 'object' && json !== null && ('model_type' in json || 'architectures' in json);
  } catch {
    return false;
  }
}
