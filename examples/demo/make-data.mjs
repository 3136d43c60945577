// Writes the demo task's data, deterministically: addition of a number 0..99 and a digit 0..9.
//
//   train.jsonl    prompts GRPO trains on: {"prompt": "47+8=", "answer": "55"}
//   heldout.jsonl  prompts no training step sees, for the before/after accuracy
//   sft.jsonl      the warm start's data: the train prompts, answered by a sloppy teacher
//                  who adds one too many more often than not (SLOPPY_SHARE of the rows)
//
// Why a sloppy teacher: the warm-started model then knows how to add, and to stop after
// the answer, but prefers the off-by-one answer. Greedy decoding is mostly wrong, while
// samples at temperature 1 are right often enough that most groups of 8 hold a right
// answer: exactly the situation in which an exact-answer reward has something to teach,
// in a few hundred GRPO iterations on a CPU. (Clean warm-start data stopped early gives a
// model that cannot add yet, and GRPO alone learns carrying far too slowly for a demo.)
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELDOUT = 200;
const SLOPPY_SHARE = 0.6;

// A tiny LCG, so the split is the same on every machine and Node version.
let state = 12345;
const random = () => {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
};

const problems = [];
for (let a = 0; a < 100; a++) for (let b = 0; b < 10; b++) problems.push({ a, b });
for (let i = problems.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [problems[i], problems[j]] = [problems[j], problems[i]];
}
const row = ({ a, b }) => ({ prompt: `${a}+${b}=`, answer: String(a + b) });
const heldout = problems.slice(0, HELDOUT).map(row);
const train = problems.slice(HELDOUT).map(row);
const sft = problems.slice(HELDOUT).map(({ a, b }) => ({ prompt: `${a}+${b}=`, answer: String(a + b + (random() < SLOPPY_SHARE ? 1 : 0)) }));

const here = dirname(fileURLToPath(import.meta.url));
const write = (name, rows) => writeFileSync(join(here, name), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
write('train.jsonl', train);
write('heldout.jsonl', heldout);
write('sft.jsonl', sft);
process.stdout.write(`wrote ${train.length} train, ${heldout.length} held-out and ${sft.length} warm-start rows to ${here}\n`);
