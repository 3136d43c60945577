import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../errors';
import { parseModelConfig, SUPPORTED_MODEL_TYPES, type ModelType } from '../../model/config';
import { freshConfigJson, MODEL_SIZES, randomWeights } from '../../model/init';
import { expectedShapes } from '../../model/params';
import { writeModelWeights } from '../../model/weights-files';
import { writeByteLevelTokenizer } from '../../tokenizer/byte-level-bpe';
import { numberFlag, requireString } from '../args';
import { parseFlags } from '../flags';
import { checkOutputFolder } from '../output-folder';

export const INIT_MODEL_HELP = `grpo init-model --arch llama|qwen2|mistral --out DIR [options]

Writes a randomly initialised Hugging Face model folder (config.json, model.safetensors,
tokenizer files with a ChatML chat template) for tests and experiments.
  --size tiny|25m|135m     preset shape (default tiny); 135m is SmolLM2-135M's shape
  --hidden-size N  --intermediate-size N  --layers N  --heads N  --kv-heads N  --vocab-size N
  --untied                 a separate lm_head instead of tied embeddings
  --merges N               BPE merges learned for the tokenizer (default 256)
  --dtype f32|bf16         weights on disk (default f32)
  --seed S                 (default 0)
  --force                  write into a folder that is not empty`;

export async function initModelCommand(argv: string[]): Promise<void> {
  const c = 'init-model';
  const v = parseFlags(c, argv, {
    arch: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string' },
    'hidden-size': { type: 'string' },
    'intermediate-size': { type: 'string' },
    layers: { type: 'string' },
    heads: { type: 'string' },
    'kv-heads': { type: 'string' },
    'vocab-size': { type: 'string' },
    untied: { type: 'boolean' },
    merges: { type: 'string' },
    dtype: { type: 'string' },
    seed: { type: 'string' },
    force: { type: 'boolean' },
  });
  const arch = requireString(v, 'arch');
  if (!SUPPORTED_MODEL_TYPES.includes(arch as ModelType)) {
    throw new UserError(`--arch must be one of ${SUPPORTED_MODEL_TYPES.join(', ')}, got "${arch}"`);
  }
  const out = requireString(v, 'out');
  const sizeName = (v.size as string | undefined) ?? 'tiny';
  const preset = MODEL_SIZES[sizeName];
  if (!preset) throw new UserError(`--size must be one of ${Object.keys(MODEL_SIZES).join(', ')}, got "${sizeName}"`);
  const dtype = ((v.dtype as string | undefined) ?? 'f32').toLowerCase();
  if (dtype !== 'f32' && dtype !== 'bf16') throw new UserError(`--dtype must be f32 or bf16, got "${dtype}"`);
  const int = (flag: string, fallback: number) => numberFlag(v, flag, fallback, { min: 1, integer: true });
  const size = {
    hiddenSize: int('hidden-size', preset.hiddenSize),
    intermediateSize: int('intermediate-size', preset.intermediateSize),
    numLayers: int('layers', preset.numLayers),
    numHeads: int('heads', preset.numHeads),
    numKvHeads: int('kv-heads', preset.numKvHeads),
    vocabSize: v['vocab-size'] === undefined ? preset.vocabSize : int('vocab-size', 1),
    tieWordEmbeddings: v.untied !== true,
  };
  if (size.hiddenSize % size.numHeads !== 0) {
    throw new UserError(`--hidden-size ${size.hiddenSize} must be divisible by --heads ${size.numHeads}`);
  }
  checkOutputFolder('out', out, v.force === true);
  await mkdir(out, { recursive: true });
  const tokens = await writeByteLevelTokenizer(out, { merges: numberFlag(v, 'merges', 256, { min: 0, integer: true }) });
  const json = freshConfigJson(arch as ModelType, size, tokens);
  if (dtype === 'bf16') json.torch_dtype = 'bfloat16';
  const configFile = join(out, 'config.json');
  const config = parseModelConfig(json, configFile);
  await writeModelWeights(out, randomWeights(config, numberFlag(v, 'seed', 0, { min: 0, integer: true })), {
    dtype: dtype === 'bf16' ? 'BF16' : 'F32',
  });
  await writeFile(configFile, JSON.stringify(json, null, 2) + '\n');
  await writeFile(
    join(out, 'generation_config.json'),
    // A turn ends at <|im_end|>, a document at <|endoftext|> (the BOS): stop on either.
    JSON.stringify({ bos_token_id: tokens.bosTokenId, eos_token_id: [tokens.eosTokenId, tokens.bosTokenId], pad_token_id: tokens.padTokenId }, null, 2) + '\n',
  );
  const params = [...expectedShapes(config).values()].reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0);
  process.stdout.write(`wrote ${arch} model (${(params / 1e6).toFixed(2)}M parameters, vocab ${config.vocabSize}) to ${out}\n`);
}

