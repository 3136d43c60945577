// Measures what the GRPO demo depends on, with `grpo generate`:
//   greedy accuracy   share of held-out prompts whose greedy answer is exactly right;
//   pass@8            share of prompts (the first 64) where 8 samples at temperature 1 hold a right answer,
//                     i.e. how often a GRPO group has something to reinforce;
//   sample accuracy   share of those samples that are right (the mean reward GRPO starts from);
//   8 x 8 time        one generate call of 8 prompts x 8 samples, model load excluded.
// Usage: node examples/demo/evaluate.mjs [MODEL_DIR] [DATASET]   (defaults: the demo model, heldout.jsonl)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const grpo = join(here, '..', '..', 'bin', 'grpo.js');
const modelDir = process.argv[2] ?? join(here, 'model');
const rows = readFileSync(process.argv[3] ?? join(here, 'heldout.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));
const MAX_NEW_TOKENS = '6'; // the longest answer, 3 digits, plus EOS, with room to spare

function generate(prompts, flags) {
  const args = [grpo, 'generate', '--model', modelDir, '--max-new-tokens', MAX_NEW_TOKENS, '--json', ...flags];
  for (const p of prompts) args.push('--prompt', p);
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

const right = (text, row) => text.trim() === String(row.answer);

const greedy = generate(rows.map((r) => r.prompt), ['--temperature', '0']);
const greedyAccuracy = greedy.results.filter((r, i) => right(r.completions[0].text, rows[i])).length / rows.length;

const sampled = rows.slice(0, 64);
const groups = generate(sampled.map((r) => r.prompt), ['--temperature', '1', '--n', '8', '--seed', '1']);
let withRight = 0;
let rightSamples = 0;
groups.results.forEach((r, i) => {
  const n = r.completions.filter((c) => right(c.text, sampled[i])).length;
  rightSamples += n;
  if (n > 0) withRight++;
});

const timed = generate(rows.slice(0, 8).map((r) => r.prompt), ['--temperature', '1', '--n', '8', '--seed', '2']);

const pct = (x) => `${(100 * x).toFixed(1)}%`;
process.stdout.write(
  `${modelDir} on ${rows.length} prompts (${greedy.backend}):\n` +
    `  greedy accuracy             ${pct(greedyAccuracy)}\n` +
    `  pass@8 at temperature 1     ${pct(withRight / sampled.length)} of ${sampled.length} prompts\n` +
    `  sample accuracy at T=1      ${pct(rightSamples / (8 * sampled.length))}\n` +
    `  generate 8 prompts x 8      ${timed.timing.seconds.toFixed(2)} s (${timed.timing.generated_tokens} tokens)\n`,
);
