import { UserError } from '../../errors';
import { saveModel } from '../../model/save';
import { loadPromptDataset } from '../../trainer/dataset';
import { DEFAULT_ADAMW } from '../../trainer/optimizer';
import { trainSft, type SftStep } from '../../trainer/sft';
import { encodeSftExamples } from '../../trainer/sft-examples';
import { existingPath, numberFlag, requireString } from '../args';
import { parseFlags } from '../flags';
import { checkOutputFolder } from '../output-folder';
import { BACKEND_FLAG, loadModelFolder, startBackend } from '../session';

export const SFT_HELP = `grpo sft --model DIR --dataset FILE --out DIR [options]

Supervised fine-tuning on prompt/answer pairs, e.g. a warm start before GRPO. The dataset
is JSONL with a "prompt" (text, or chat messages) and an "answer" (or "completion") per
line. The loss is the mean log-loss of the answer tokens, each answer followed by EOS so
the model learns to stop; prompt tokens are context only. Writes an HF model folder with
the tokenizer files.
  --epochs N               passes over the dataset (default 3)
  --learning-rate LR       AdamW peak rate (default 5e-5; a tiny model from scratch wants ~3e-3)
  --lr-schedule linear|constant   linear decays to 0 at the last step (default linear)
  --batch-size B           examples per step (default 8)
  --max-tokens T           skip examples whose prompt + answer exceed T tokens (default 512)
  --seed S                 example order (default 0)
  --chat                   wrap text prompts as a user message with the model's chat template
  --dtype f32|bf16         weights written (default f32)
  --force                  write into an --out folder that is not empty
  --backend auto|tensorflow|wasm|cpu|webgpu`;

export async function sftCommand(argv: string[]): Promise<void> {
  const c = 'sft';
  const v = parseFlags(c, argv, {
    model: { type: 'string' },
    dataset: { type: 'string' },
    out: { type: 'string' },
    epochs: { type: 'string' },
    'learning-rate': { type: 'string' },
    'lr-schedule': { type: 'string' },
    'batch-size': { type: 'string' },
    'max-tokens': { type: 'string' },
    seed: { type: 'string' },
    chat: { type: 'boolean' },
    dtype: { type: 'string' },
    force: { type: 'boolean' },
    ...BACKEND_FLAG,
  });
  const modelDir = requireString(v, 'model');
  const datasetFile = existingPath('dataset', requireString(v, 'dataset'), 'file');
  const outDir = requireString(v, 'out');
  // Before the training, not after it: a refusal then would cost the whole run.
  checkOutputFolder('out', outDir, v.force === true);
  const epochs = numberFlag(v, 'epochs', 3, { min: 1, integer: true });
  const learningRate = numberFlag(v, 'learning-rate', 5e-5, { min: 0 });
  const schedule = (v['lr-schedule'] as string | undefined) ?? 'linear';
  if (schedule !== 'linear' && schedule !== 'constant') throw new UserError(`--lr-schedule must be linear or constant, got "${schedule}"`);
  const batchSize = numberFlag(v, 'batch-size', 8, { min: 1, integer: true });
  const maxTokens = numberFlag(v, 'max-tokens', 512, { min: 2, integer: true });
  const seed = numberFlag(v, 'seed', 0, { min: 0, integer: true });
  const dtype = ((v.dtype as string | undefined) ?? 'f32').toLowerCase();
  if (dtype !== 'f32' && dtype !== 'bf16') throw new UserError(`--dtype must be f32 or bf16, got "${dtype}"`);
  const rows = await loadPromptDataset(datasetFile);

  const backend = await startBackend(v);
  const { model, tokenizer } = await loadModelFolder(modelDir, true);
  const tok = tokenizer!;
  const encoded = encodeSftExamples(rows, tok, v.chat === true, datasetFile);
  const tooLong = encoded.filter((e) => e.promptIds.length + e.answerIds.length > maxTokens);
  if (tooLong.length > 0) {
    const what = `${tooLong.length} of ${encoded.length} examples (first: row ${tooLong[0].index + 1}) are longer than --max-tokens ${maxTokens}`;
    if (tooLong.length === encoded.length) throw new UserError(`${datasetFile}: ${what}; raise --max-tokens`);
    process.stderr.write(`warning: ${datasetFile}: skipping ${what}\n`);
  }
  const examples = encoded.filter((e) => !tooLong.includes(e));
  const answerTokens = examples.reduce((n, e) => n + e.answerIds.length, 0);
  const totalSteps = Math.ceil(examples.length / batchSize) * epochs;
  process.stdout.write(
    `sft: ${examples.length} examples (${answerTokens} answer tokens) from ${datasetFile}, ` +
      `${epochs} epoch(s) x ${Math.ceil(examples.length / batchSize)} steps of ${batchSize}, lr ${learningRate}, on ${backend.name}\n`,
  );

  const started = performance.now();
  const report = progressPrinter(totalSteps);
  const summary = await trainSft(
    model,
    examples,
    { epochs, learningRate, schedule, batchSize, seed, padTokenId: tok.padTokenId ?? tok.eosTokenIds[0], optimizer: DEFAULT_ADAMW },
    report,
  );
  summary.epochLosses.forEach((loss, i) => process.stdout.write(`epoch ${i + 1}/${epochs}: mean loss ${loss.toFixed(4)}\n`));
  if (summary.skippedSteps > 0) {
    process.stdout.write(`${summary.skippedSteps} of ${summary.steps} steps skipped for a non-finite gradient; try a lower --learning-rate\n`);
  }
  await saveModel(model, outDir, { dtype: dtype === 'bf16' ? 'BF16' : 'F32', tokenizerDir: modelDir });
  model.dispose();
  process.stdout.write(`saved ${outDir} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}

/** Prints about 40 progress lines per run, each with the throughput since the one before. */
function progressPrinter(totalSteps: number): (s: SftStep) => void {
  const every = Math.max(1, Math.round(totalSteps / 40));
  let tokens = 0;
  let seconds = 0;
  return (s) => {
    tokens += s.tokens;
    seconds += s.seconds;
    if (!s.applied) process.stdout.write(`step ${s.step}: gradient norm ${s.gradNorm}, update skipped\n`);
    if (s.step % every !== 0 && s.step !== totalSteps) return;
    const width = String(totalSteps).length;
    process.stdout.write(
      `epoch ${s.epoch}/${s.epochs}  step ${String(s.step).padStart(width)}/${totalSteps}  loss ${s.loss.toFixed(4)}  ` +
        `grad norm ${s.gradNorm.toFixed(2)}  lr ${s.learningRate.toPrecision(3)}  ${Math.round(tokens / seconds)} tokens/s\n`,
    );
    tokens = 0;
    seconds = 0;
  };
}
