import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import {
  DEFAULT_TRAINING_CONFIG, loadTrainingConfig, parseTrainingConfig, TRAINING_CONFIG_FIELDS, trainingConfigJsonSchema,
  trainingConfigWarnings, type TrainingConfig,
} from '../src/trainer/config';
import { learningRateAt } from '../src/trainer/learning-rate';

const FILE = 'grpo.config.json';
const MINIMAL = { model_path: 'models/tiny', dataset_path: 'data/train.jsonl', rewards: [{ file: 'rewards/exact.ts' }] };

const parse = (overrides: Record<string, unknown>): TrainingConfig => parseTrainingConfig({ ...MINIMAL, ...overrides }, FILE);

/** Asserts that `overrides` is refused with a one-line UserError naming the file and matching `pattern`. */
function refused(overrides: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(
    () => parse(overrides),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
      assert.ok(e.message.startsWith(`${FILE}: `), e.message);
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('parseTrainingConfig', () => {
  it('fills every default around the required fields', () => {
    const config = parseTrainingConfig(MINIMAL, FILE);
    assert.deepEqual(config, { ...DEFAULT_TRAINING_CONFIG, ...MINIMAL, rewards: [{ file: 'rewards/exact.ts', weight: 1 }] });
    assert.equal(config.epsilon_high, config.epsilon);
    assert.ok(!('eval_dataset_path' in config));
    // Defaults are copies: changing one run's config does not change the next.
    config.stop.push('\n');
    assert.deepEqual(parseTrainingConfig(MINIMAL, FILE).stop, []);
  });

  it('takes epsilon_high from epsilon when absent, and keeps it when given', () => {
    assert.equal(parse({ epsilon: 0.1 }).epsilon_high, 0.1);
    assert.equal(parse({ epsilon: 0.2, epsilon_high: 0.28 }).epsilon_high, 0.28);
  });

  it('accepts a $schema key, which editors add', () => {
    assert.doesNotThrow(() => parse({ $schema: './grpo.schema.json' }));
  });

  it('names the closest field for a misspelt or camelCased key, and TRL\'s names', () => {
    refused({ lerning_rate: 1e-5 }, /unknown field "lerning_rate"; did you mean "learning_rate"\?/);
    refused({ groupSize: 4 }, /did you mean "group_size"\?/);
    refused({ warmup_steps: 10 }, /unknown field "warmup_steps": that is TRL's name; here it is counted in iterations as "warmup_iterations"/);
    refused({ gradient_accumulation_steps: 4 }, /TRL's name; here it is not needed: each minibatch is one optimizer step/);
    refused({ colour: 'blue' }, /unknown field "colour"; remove it, or use one of: model_path, .*backend/);
    refused({ toString: 1 }, /unknown field "toString"/);
  });

  it('reads TRL\'s names for the same settings as ours, with a note, and refuses both names at once', () => {
    const notes: string[] = [];
    const c = parseTrainingConfig({ ...MINIMAL, beta: 0.01, num_generations: 4, max_completion_length: 32, adam_epsilon: 1e-6 }, FILE, { notes });
    assert.equal(c.kl_coef, 0.01);
    assert.equal(c.group_size, 4);
    assert.equal(c.max_new_tokens, 32);
    assert.equal(c.adam_eps, 1e-6);
    assert.deepEqual(notes.sort(), [
      '"adam_epsilon" is TRL\'s name for "adam_eps"; read as "adam_eps"',
      '"beta" is TRL\'s name for "kl_coef"; read as "kl_coef"',
      '"max_completion_length" is TRL\'s name for "max_new_tokens"; read as "max_new_tokens"',
      '"num_generations" is TRL\'s name for "group_size"; read as "group_size"',
    ]);
    refused({ beta: 0.01, kl_coef: 0.02 }, /"beta" \(TRL's name\) and "kl_coef" set the same thing; keep one/);
    refused({ beta: -1 }, /field "kl_coef" must be a number >= 0/);
  });

  it('warns that TRL\'s num_iterations means ppo_epochs when a run is a few iterations long', () => {
    assert.match(trainingConfigWarnings(parse({ num_iterations: 2 }), FILE).join('\n'), /num_iterations 2 counts training iterations here .* is ppo_epochs here/);
    assert.deepEqual(trainingConfigWarnings(parse({ num_iterations: 100 }), FILE), []);
  });

  it('checks the TRL options against each other', () => {
    refused({ loss_type: 'cispo' }, /loss_type "cispo" caps the importance weight itself at epsilon_high, and 0.2 would cap every ratio below 1; set epsilon_high to the cap \(ScaleRL recommends 5\)/);
    assert.equal(parse({ loss_type: 'cispo', epsilon_high: 5 }).epsilon_high, 5);
    refused({ delta: 1 }, /"delta" must be a number > 1/);
    refused({ top_entropy_quantile: 1.2 }, /"top_entropy_quantile" must be a number in \[0, 1\]/);
    refused({ use_adaptive_entropy: true, entropy_coef_min: 0.5, entropy_coef_max: 0.1 }, /entropy_coef_min 0.5 exceeds entropy_coef_max 0.1/);
    refused({ multi_objective_aggregation: 'sum' }, /must be one of "sum_then_normalize", "normalize_then_sum"/);
    const w = (o: Record<string, unknown>) => trainingConfigWarnings(parse(o), FILE).join('\n');
    assert.match(w({ importance_sampling_level: 'sequence' }), /"sequence" with loss_type "dapo" sums per-token terms/);
    assert.equal(w({ importance_sampling_level: 'sequence', loss_type: 'grpo' }), '');
    assert.match(w({ delta: 1.1, epsilon_high: 0.28 }), /delta 1.1 is within the clip band/);
  });

  it('refuses wrong types, saying what the field must be', () => {
    refused({ group_size: '8' }, /field "group_size" must be an integer >= 2, got "8"/);
    refused({ group_size: 2.5 }, /must be an integer >= 2, got 2.5/);
    refused({ learning_rate: null }, /field "learning_rate" must be a number > 0, got null/);
    refused({ mask_truncated_completions: 'yes' }, /must be true or false/);
    refused({ gradient_checkpointing: 'on' }, /field "gradient_checkpointing" must be true, false or "auto", got "on"/);
    assert.deepEqual([true, false, 'auto'].map((v) => parse({ gradient_checkpointing: v }).gradient_checkpointing), [true, false, 'auto']);
    refused({ loss_type: 'ppo' }, /field "loss_type" must be one of "grpo", "bnpo", "dr_grpo", "dapo", "cispo", got "ppo"/);
    refused({ stop: 'END' }, /field "stop" must be an array of non-empty strings/);
    refused({ model_path: 3 }, /field "model_path" must be a non-empty string/);
  });

  it('refuses out-of-range values, with the reason where one helps', () => {
    refused({ group_size: 1, minibatch_size: 8 }, /"group_size" must be an integer >= 2, got 1 \(an advantage compares/);
    refused({ temperature: 0 }, /"temperature" must be a number > 0, got 0 \(GRPO needs different completions/);
    refused({ top_p: 1.5 }, /"top_p" must be a number in \(0, 1\], got 1.5/);
    refused({ min_p: 1 }, /"min_p" must be a number in \[0, 1\), got 1/);
    refused({ ema_alpha: 0 }, /"ema_alpha" must be a number in \(0, 1\], got 0/);
    refused({ ema_alpha: 1.5 }, /"ema_alpha" must be a number in \(0, 1\]/);
    assert.equal(parse({ ema_alpha: 1 }).ema_alpha, 1);
    refused({ kl_coef: -0.1 }, /"kl_coef" must be a number >= 0/);
    refused({ epsilon: 1 }, /"epsilon" must be a number in \(0, 1\)/);
  });

  it('refuses a missing required field, saying what it is', () => {
    const { model_path: _, ...rest } = MINIMAL;
    assert.throws(() => parseTrainingConfig(rest, FILE), /grpo.config.json: field "model_path" is missing; add it: The Hugging Face model folder/);
  });

  it('checks each reward entry with its own fields', () => {
    refused({ rewards: [] }, /field "rewards" must be an array of at least 1 object, got an empty array \(a completion needs a reward/);
    refused({ rewards: [{ file: 'a.ts', wieght: 2 }] }, /unknown field "rewards\[0\].wieght"; did you mean "rewards\[0\].weight"\?/);
    refused({ rewards: [{ file: 'a.ts' }, { file: 'b.ts', weight: '2' }] }, /field "rewards\[1\].weight" must be a number, got "2"/);
    refused({ rewards: [{ file: 'a.ts', functions: [] }] }, /"rewards\[0\].functions" must be a non-empty array of names/);
    refused({ rewards: [{ weight: 2 }] }, /field "rewards\[0\].file" is missing/);
    refused({ rewards: ['a.ts'] }, /"rewards\[0\]" must be a JSON object, got "a.ts"/);
    assert.deepEqual(parse({ rewards: [{ file: 'a.ts', weight: -0.5, functions: ['format'] }] }).rewards, [
      { file: 'a.ts', weight: -0.5, functions: ['format'] },
    ]);
  });

  it('refuses a minibatch that does not divide an iteration\'s completions, listing the sizes that do', () => {
    refused(
      { rollout_batch_size: 3, group_size: 4, minibatch_size: 8 },
      /minibatch_size 8 does not divide the 12 completions of an iteration \(rollout_batch_size 3 x group_size 4\); set minibatch_size to one of 1, 2, 3, 4, 6, 12, or change rollout_batch_size/,
    );
    refused({ rollout_batch_size: 1, group_size: 8, minibatch_size: 16 }, /does not divide the 8 completions/);
  });

  it('refuses epsilon_high below epsilon and warmup longer than training', () => {
    refused({ epsilon: 0.2, epsilon_high: 0.1 }, /epsilon_high 0.1 is below epsilon 0.2; set epsilon_high to at least 0.2/);
    refused({ num_iterations: 10, warmup_iterations: 11 }, /warmup_iterations 11 exceeds num_iterations 10; set warmup_iterations to at most 10/);
  });

  it('refuses a file that is not an object', () => {
    assert.throws(() => parseTrainingConfig([MINIMAL], FILE), /grpo.config.json: the file must be a JSON object, got an array/);
  });
});

describe('trainingConfigWarnings', () => {
  it('notes a reference mode that kl_coef 0 makes moot, and nothing for the defaults', () => {
    assert.deepEqual(trainingConfigWarnings(parse({}), FILE), []);
    const [warning, ...rest] = trainingConfigWarnings(parse({ kl_coef: 0, reference_mode: 'ema' }), FILE);
    assert.match(warning, /reference_mode "ema" has no effect with kl_coef 0/);
    assert.deepEqual(rest, []);
  });
});

describe('loadTrainingConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-config-'));

  it('resolves relative paths against the settings file\'s folder and keeps absolute ones', async () => {
    const file = join(dir, 'grpo.config.json');
    writeFileSync(file, JSON.stringify({ ...MINIMAL, eval_dataset_path: '/data/eval.jsonl', output_dir: 'runs' }));
    const config = await loadTrainingConfig(file);
    assert.equal(config.model_path, join(dir, 'models/tiny'));
    assert.equal(config.dataset_path, join(dir, 'data/train.jsonl'));
    assert.equal(config.rewards[0].file, join(dir, 'rewards/exact.ts'));
    assert.equal(config.eval_dataset_path, '/data/eval.jsonl');
    assert.equal(config.output_dir, join(dir, 'runs'));
    writeFileSync(file, JSON.stringify(MINIMAL));
    assert.equal((await loadTrainingConfig(file)).output_dir, join(dir, '.grpo/runs'));
  });

  it('reports bad JSON and a missing file with the path', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "model_path": ');
    await assert.rejects(loadTrainingConfig(bad), (e: Error) => e instanceof UserError && e.message.startsWith(`${bad}: not valid JSON`));
    const missing = join(dir, 'missing.json');
    await assert.rejects(loadTrainingConfig(missing), (e: Error) => e instanceof UserError && e.message.includes(`${missing}: cannot read`));
  });
});

/**
 * The subset of draft-07 the generated schema uses; returns what is wrong. Enough to show
 * the schema says the same as the validator, without a schema package.
 */
function schemaErrors(schema: Record<string, unknown>, value: unknown, at = '$'): string[] {
  const errors: string[] = [];
  const type = schema.type as string | undefined;
  const typeOk: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === 'string',
    number: (v) => typeof v === 'number',
    integer: (v) => Number.isInteger(v),
    boolean: (v) => typeof v === 'boolean',
    array: Array.isArray,
    object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  };
  if (type && !typeOk[type](value)) return [`${at}: not ${type}`];
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) errors.push(`${at}: not in enum`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < (schema.minimum as number)) errors.push(`${at}: below minimum`);
    if (schema.maximum !== undefined && value > (schema.maximum as number)) errors.push(`${at}: above maximum`);
    if (schema.exclusiveMinimum !== undefined && value <= (schema.exclusiveMinimum as number)) errors.push(`${at}: not above exclusiveMinimum`);
    if (schema.exclusiveMaximum !== undefined && value >= (schema.exclusiveMaximum as number)) errors.push(`${at}: not below exclusiveMaximum`);
  }
  if (typeof value === 'string' && schema.minLength !== undefined && value.length < (schema.minLength as number)) errors.push(`${at}: too short`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < (schema.minItems as number)) errors.push(`${at}: too few items`);
    if (schema.items) value.forEach((v, i) => errors.push(...schemaErrors(schema.items as Record<string, unknown>, v, `${at}[${i}]`)));
  }
  if (type === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in obj)) errors.push(`${at}.${key}: required`);
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) errors.push(...schemaErrors(props[key], v, `${at}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${at}.${key}: not allowed`);
    }
  }
  return errors;
}

describe('trainingConfigJsonSchema', () => {
  const schema = trainingConfigJsonSchema();
  const props = schema.properties as Record<string, Record<string, unknown>>;

  it('is a draft-07 object schema that lists every field, each with a description', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(props).filter((k) => k !== '$schema'), Object.keys(TRAINING_CONFIG_FIELDS));
    for (const [key, p] of Object.entries(props)) assert.ok(typeof p.description === 'string' && p.description.length > 10, key);
    assert.deepEqual(schema.required, ['model_path', 'dataset_path', 'rewards']);
  });

  it('gives every field with a fixed default that default, and each default satisfies its own schema', () => {
    const withoutDefault = Object.keys(props).filter((k) => !('default' in props[k]));
    // Required fields, the optional eval set and delta, epsilon_high (defaults to epsilon) and $schema.
    assert.deepEqual(withoutDefault.sort(), ['$schema', 'dataset_path', 'delta', 'epsilon_high', 'eval_dataset_path', 'lora', 'model_path', 'rewards']);
    for (const [key, value] of Object.entries(DEFAULT_TRAINING_CONFIG)) {
      if (key === 'epsilon_high') continue;
      assert.deepEqual(props[key].default, value, key);
      assert.deepEqual(schemaErrors(props[key], value), [], key);
    }
    assert.deepEqual(schemaErrors(schema, { ...DEFAULT_TRAINING_CONFIG, ...MINIMAL }), []);
  });

  it('says what the validator says about bad values', () => {
    const bad: Record<string, unknown>[] = [
      { group_size: 1 }, { temperature: 0 }, { top_p: 0 }, { min_p: 1 }, { ema_alpha: 0 }, { ema_alpha: 1.01 },
      { loss_type: 'ppo' }, { seed: -1 }, { learning_rate: 0 }, { stop: [''] }, { rewards: [] },
      { rewards: [{ file: 'a.ts', wieght: 1 }] }, { num_iterations: 1.5 }, { lerning_rate: 1 },
    ];
    for (const overrides of bad) {
      const value = { ...MINIMAL, ...overrides };
      assert.notDeepEqual(schemaErrors(schema, value), [], `schema accepts ${JSON.stringify(overrides)}`);
      assert.throws(() => parseTrainingConfig(value, FILE), UserError, `validator accepts ${JSON.stringify(overrides)}`);
    }
  });
});

describe('learningRateAt', () => {
  const settings = { learning_rate: 1e-3, num_iterations: 10, warmup_iterations: 2 };
  const rates = (lr_schedule: TrainingConfig['lr_schedule']) =>
    Array.from({ length: 10 }, (_, i) => learningRateAt({ ...settings, lr_schedule }, i + 1));
  const close = (a: number[], e: number[]) => e.forEach((x, i) => assert.ok(Math.abs(a[i] - x) < 1e-15, `iteration ${i + 1}: ${a[i]} vs ${x}`));

  it('warms up linearly from the first iteration, then holds (constant)', () => {
    close(rates('constant'), [0.5e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]);
  });

  it('decays linearly over the iterations after warmup, never reaching 0 within the run', () => {
    // 8 decay iterations: p = 0, 1/8, ..., 7/8.
    close(rates('linear'), [0.5e-3, 1e-3, ...[0, 1, 2, 3, 4, 5, 6, 7].map((k) => 1e-3 * (1 - k / 8))]);
  });

  it('follows a half cosine after warmup', () => {
    const r = rates('cosine');
    close(r.slice(0, 3), [0.5e-3, 1e-3, 1e-3]);
    close([r[6]], [1e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.5))]); // iteration 7: p = 4/8
    assert.ok(r.every((x, i) => i === 0 || x <= r[i - 1] || i === 1));
  });

  it('starts at the full rate without warmup', () => {
    assert.equal(learningRateAt({ ...settings, warmup_iterations: 0, lr_schedule: 'linear' }, 1), 1e-3);
  });
});
