import { UserError } from '../../errors';
import { completionText, generate } from '../../model/generate';
import { DEFAULT_SAMPLING } from '../../model/sampling';
import { numberFlag } from '../args';
import { parseFlags } from '../flags';
import { BACKEND_FLAG, loadModelFolder, startBackend } from '../session';

export const GENERATE_HELP = `grpo generate --model DIR --prompt "..." [--prompt "..."] [options]

Samples completions, all prompts in one batch; each prompt is prefilled once and its
cache shared by its --n samples.
  --n G                    completions per prompt (default 1)
  --max-new-tokens N       (default 64)
  --temperature T          0 = greedy (default 1)
  --top-k K  --top-p P  --min-p P  --repetition-penalty R
  --stop STR               stop string, repeatable
  --seed S                 same seed, same samples (default 0)
  --chat                   wrap each prompt as a user message with the model's chat template
  --json                   one JSON object with every completion
  --backend auto|tensorflow|wasm|cpu|webgpu`;

export async function generateCommand(argv: string[]): Promise<void> {
  const c = 'generate';
  const v = parseFlags(c, argv, {
    model: { type: 'string' },
    prompt: { type: 'string', multiple: true },
    n: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    'min-p': { type: 'string' },
    'repetition-penalty': { type: 'string' },
    stop: { type: 'string', multiple: true },
    seed: { type: 'string' },
    chat: { type: 'boolean' },
    json: { type: 'boolean' },
    ...BACKEND_FLAG,
  });
  if (typeof v.model !== 'string') throw new UserError('--model is required');
  const prompts = (v.prompt as string[] | undefined) ?? [];
  if (prompts.length === 0) throw new UserError('--prompt is required');
  const groupSize = numberFlag(v, 'n', 1, { min: 1, max: 1024, integer: true });
  const maxNewTokens = numberFlag(v, 'max-new-tokens', 64, { min: 1, integer: true });
  const sampling = {
    temperature: numberFlag(v, 'temperature', DEFAULT_SAMPLING.temperature, { min: 0 }),
    topK: numberFlag(v, 'top-k', DEFAULT_SAMPLING.topK, { min: 0, integer: true }),
    topP: numberFlag(v, 'top-p', DEFAULT_SAMPLING.topP, { min: 0, max: 1 }),
    minP: numberFlag(v, 'min-p', DEFAULT_SAMPLING.minP, { min: 0, max: 1 }),
    repetitionPenalty: numberFlag(v, 'repetition-penalty', DEFAULT_SAMPLING.repetitionPenalty, { min: 0.01 }),
  };
  const seed = numberFlag(v, 'seed', 0, { min: 0, integer: true });
  const stopStrings = ((v.stop as string[] | undefined) ?? []).filter((s) => s !== '');

  const backend = await startBackend(v);
  const { model, tokenizer } = await loadModelFolder(v.model, true);
  const tok = tokenizer!;
  const texts = v.chat ? prompts.map((p) => tok.applyChatTemplate([{ role: 'user', content: p }], { addGenerationPrompt: true })) : prompts;
  // A chat template writes its own BOS where the model wants one.
  const promptIds = texts.map((t) => tok.encode(t, { addSpecialTokens: !v.chat }));
  const eosTokenIds = [...new Set([...tok.eosTokenIds, ...model.config.eosTokenIds])];
  const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });
  const started = performance.now();
  let firstStep = 0;
  const out = await generate(model, promptIds, {
    ...sampling,
    maxNewTokens,
    groupSize,
    eosTokenIds,
    padTokenId: tok.padTokenId ?? eosTokenIds[0] ?? 0,
    seed,
    stopStrings,
    decode,
    onStep: (p) => {
      if (p.step === 1) firstStep = performance.now();
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const generated = out.flat().reduce((n, x) => n + x.ids.length, 0);
  const decodeSeconds = firstStep ? (performance.now() - firstStep) / 1000 : seconds;
  const results = out.map((group, p) => ({
    prompt: prompts[p],
    completions: group.map((x) => ({ text: completionText(x, decode), ids: x.ids, finish_reason: x.finishReason })),
  }));
  if (v.json) {
    const timing = { seconds, generated_tokens: generated, decode_tokens_per_second: generated / decodeSeconds };
    process.stdout.write(JSON.stringify({ backend: backend.name, results, timing }) + '\n');
    return;
  }
  for (const r of results) {
    process.stdout.write(`=== prompt: ${JSON.stringify(r.prompt)}\n`);
    r.completions.forEach((x, i) => {
      process.stdout.write(`--- sample ${i + 1}/${groupSize} (${x.finish_reason}, ${x.ids.length} tokens)\n${x.text}\n`);
    });
  }
  process.stderr.write(
    `${generated} tokens in ${seconds.toFixed(2)} s (${(generated / decodeSeconds).toFixed(1)} tokens/s decoding) on ${backend.name}\n`,
  );
}
