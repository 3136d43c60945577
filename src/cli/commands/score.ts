import { UserError } from '../../errors';
import { scoreSequences } from '../../model/score';
import { idListFlag, requireString } from '../args';
import { parseFlags } from '../flags';
import { BACKEND_FLAG, loadModelFolder, startBackend } from '../session';

export const SCORE_HELP = `grpo score --model DIR (--ids 1,5,9 | --text "...") [--no-special-tokens] [--json] [--backend B]

Prints log p(ids[i] | ids[0..i-1]) for every position i (null for the first token).
--json prints one object: {"ids": [...], "logprobs": [null, ...], "backend": "..."}.`;

export async function scoreCommand(argv: string[]): Promise<void> {
  const v = parseFlags('score', argv, {
    model: { type: 'string' },
    ids: { type: 'string' },
    text: { type: 'string' },
    'no-special-tokens': { type: 'boolean' },
    json: { type: 'boolean' },
    ...BACKEND_FLAG,
  });
  const dir = requireString(v, 'model');
  if ((v.ids === undefined) === (v.text === undefined)) throw new UserError('give exactly one of --ids or --text');
  const backend = await startBackend(v);
  const { model, tokenizer } = await loadModelFolder(dir, v.text !== undefined);
  const ids =
    typeof v.ids === 'string'
      ? idListFlag('ids', v.ids)
      : tokenizer!.encode(v.text as string, { addSpecialTokens: v['no-special-tokens'] !== true });
  if (ids.length === 0) throw new UserError('nothing to score (the text encoded to no tokens)');
  const bad = ids.find((id) => id >= model.config.vocabSize);
  if (bad !== undefined) throw new UserError(`token id ${bad} is outside the vocabulary (vocab_size ${model.config.vocabSize})`);
  const [logprobs] = await scoreSequences(model, [ids]);
  if (v.json) {
    process.stdout.write(JSON.stringify({ ids, logprobs, backend: backend.name }) + '\n');
    return;
  }
  const total = logprobs.reduce<number>((s, x) => s + (x ?? 0), 0);
  for (let i = 0; i < ids.length; i++) {
    const token = tokenizer ? JSON.stringify(tokenizer.decode([ids[i]])) : '';
    const lp = logprobs[i] === null ? '' : (logprobs[i] as number).toFixed(4);
    process.stdout.write(`${String(i).padStart(4)}  ${String(ids[i]).padStart(7)}  ${lp.padStart(10)}  ${token}\n`);
  }
  process.stdout.write(`sum log p = ${total.toFixed(4)} over ${ids.length - 1} predicted tokens (backend ${backend.name})\n`);
}
