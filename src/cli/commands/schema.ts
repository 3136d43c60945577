import { trainingConfigJsonSchema } from '../../trainer/config';
import { parseFlags } from '../flags';

export const SCHEMA_HELP = `grpo schema

Prints the JSON Schema of grpo.config.json: every field with its type, default and
documentation. Save it and point your config's "$schema" at it for completion in editors.`;

export async function schemaCommand(argv: string[]): Promise<void> {
  parseFlags('schema', argv, {});
  process.stdout.write(JSON.stringify(trainingConfigJsonSchema(), null, 2) + '\n');
}
