// config.json validation: what is supported parses, what is not says which field and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModelConfig } from '../src/model/config';
import { inverseFrequencies } from '../src/model/rope';
import { UserError } from '../src/errors';

const base = {
  model_type: 'llama',
  vocab_size: 100,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
};

function rejects(over: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(() => parseModelConfig({ ...base, ...over }, 'm/config.json'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^m\/config\.json: /);
    assert.match(e.message, pattern);
    return true;
  });
}

test('defaults follow transformers: head_dim, kv heads, theta, eps, untied', () => {
  const c = parseModelConfig({ ...base, num_key_value_heads: undefined }, 'x');
  assert.equal(c.headDim, 16);
  assert.equal(c.numKvHeads, 4);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.qkvBias, false);
});

test('transformers 5 rope_parameters give theta and scaling, and win over the older fields', () => {
  const plain = parseModelConfig({ ...base, rope_theta: 500, rope_parameters: { rope_theta: 1e6, rope_type: 'default' } }, 'x');
  assert.equal(plain.ropeTheta, 1e6);
  assert.equal(plain.ropeScaling, null);
  const scaled = parseModelConfig(
    { ...base, rope_parameters: { rope_theta: 5e5, rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } },
    'x',
  );
  assert.equal(scaled.ropeTheta, 5e5);
  assert.deepEqual(scaled.ropeScaling, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
});

test('qwen2 has q/k/v biases and ignores sliding_window unless use_sliding_window', () => {
  const c = parseModelConfig({ ...base, model_type: 'qwen2', sliding_window: 8, use_sliding_window: false }, 'x');
  assert.equal(c.qkvBias, true);
  assert.equal(c.oBias, false);
  assert.equal(c.slidingWindow, null);
  assert.equal(parseModelConfig({ ...base, model_type: 'mistral', sliding_window: 8 }, 'x').slidingWindow, 8);
});

test('unsupported options name the field and what is supported', () => {
  rejects({ model_type: 'gpt2' }, /model_type "gpt2" is not supported; supported: llama, qwen2, mistral/);
  rejects({ hidden_act: 'gelu' }, /hidden_act "gelu" is not supported; supported: silu/);
  rejects({ rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling rope_type "yarn" is not supported; supported: default, llama3/);
  rejects({ rope_parameters: { rope_type: 'yarn', rope_theta: 1e6 } }, /rope_parameters rope_type "yarn" is not supported/);
  rejects({ rope_parameters: { rope_theta: -1 } }, /"rope_parameters.rope_theta" must be a positive number/);
  rejects({ rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling\.low_freq_factor must be a positive number/);
  rejects({ num_key_value_heads: 3 }, /num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/);
  rejects({ hidden_size: 'big' }, /field "hidden_size" must be a positive integer/);
  rejects({ mlp_bias: true }, /mlp_bias true is not supported/);
});

test('llama3 rope scaling keeps high frequencies, divides low ones by factor, blends between', () => {
  const plain = parseModelConfig({ ...base, rope_theta: 500000 }, 'x');
  const scaled = parseModelConfig(
    { ...base, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } },
    'x',
  );
  const a = inverseFrequencies(plain);
  const b = inverseFrequencies(scaled);
  assert.equal(b[0], a[0]); // wavelength 2π < 64/4: untouched
  assert.ok(Math.abs(b[7] - a[7] / 8) < 1e-12); // longest wavelength: divided by factor
  const blended = b.filter((x, i) => x !== a[i] && Math.abs(x - a[i] / 8) > 1e-12);
  assert.ok(blended.length >= 1, 'some frequency lies in the smoothed band');
});
