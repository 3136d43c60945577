// The flag grammar every `grpo` command shares (src/cli/flags.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../src/errors';
import { parseFlags, type FlagSpecs } from '../src/cli/flags';

const SPECS: FlagSpecs = {
  learning_rate: { type: 'string' },
  'max-new-tokens': { type: 'string' },
  reward: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  use_bias_correction_kl: { type: 'boolean' },
};

const parse = (...argv: string[]) => parseFlags('train', argv, SPECS);

function refusal(argv: string[]): string {
  try {
    parse(...argv);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

test('dashes and underscores are one spelling; values are keyed as the command declares them', () => {
  assert.deepEqual(parse('--learning-rate', '1e-4', '--max_new_tokens', '8'), { learning_rate: '1e-4', 'max-new-tokens': '8' });
  assert.deepEqual(parse('--learning_rate=2e-4', '--max-new-tokens=4'), { learning_rate: '2e-4', 'max-new-tokens': '4' });
});

test('a value may be negative; a value that begins with two dashes needs "="', () => {
  assert.deepEqual(parse('--learning_rate', '-0.5'), { learning_rate: '-0.5' });
  assert.deepEqual(parse('--learning_rate', '-1e-3', '--json'), { learning_rate: '-1e-3', json: true });
  assert.match(refusal(['--learning_rate', '--json']), /^--learning_rate needs a value: --learning_rate VALUE, or --learning_rate=VALUE/);
  assert.match(refusal(['--learning_rate']), /needs a value/);
  assert.deepEqual(parse('--reward=--odd-name.ts'), { reward: ['--odd-name.ts'] });
});

test('switches: --name, --name=true|false, --no-name (either spelling)', () => {
  assert.deepEqual(parse('--json'), { json: true });
  assert.deepEqual(parse('--json=false'), { json: false });
  assert.deepEqual(parse('--no-use-bias-correction-kl'), { use_bias_correction_kl: false });
  assert.deepEqual(parse('--no_use_bias_correction_kl'), { use_bias_correction_kl: false });
  assert.match(refusal(['--json=yes']), /--json is a switch: write --json, --json=false or --no-json, not "yes"/);
  assert.match(refusal(['--no-json=1']), /--no-json takes no value/);
  assert.match(refusal(['--no-learning-rate']), /unknown flag --no-learning-rate/, 'only switches have a --no- form');
});

test('repeatable flags collect in order; others may be given once', () => {
  assert.deepEqual(parse('--reward', 'a.ts', '--reward=b.ts'), { reward: ['a.ts', 'b.ts'] });
  assert.match(refusal(['--learning_rate', '1', '--learning-rate', '2']), /^--learning-rate is given twice; give it once$/);
});

test('an unknown flag is answered with the closest known one, in the command\'s spelling', () => {
  assert.equal(refusal(['--learnig-rate', '1']), 'unknown flag --learnig-rate; did you mean --learning_rate? (see grpo train --help)');
  assert.equal(refusal(['--maxNewTokens', '1']), 'unknown flag --maxNewTokens; did you mean --max-new-tokens? (see grpo train --help)');
  assert.equal(refusal(['--zebra']), 'unknown flag --zebra (see grpo train --help)');
});

test('an argument that is neither a flag nor its value is refused', () => {
  assert.match(refusal(['model']), /^unexpected argument "model": every argument is a --flag or the value after one/);
  assert.match(refusal(['-n', '3']), /unexpected argument "-n"/);
  assert.match(refusal(['--json', '--']), /unexpected argument "--"/);
});
