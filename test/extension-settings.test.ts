import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandId } from '../src/extension/command-ids';
import { BACKENDS, DEFAULT_SETTINGS, readSettings, type GrpoSettings } from '../src/extension/settings';
import { untrustedRefusal } from '../src/extension/trust';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));

test('the settings interface mirrors package.json: same names and defaults', () => {
  const properties = manifest.contributes.configuration.properties as Record<string, { default: unknown; enum?: string[] }>;
  const contributed = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k.replace(/^grpo\./, ''), v.default]));
  assert.deepEqual(contributed, { ...DEFAULT_SETTINGS });
  assert.deepEqual(properties['grpo.backend'].enum, [...BACKENDS]);
});

test('every command id is contributed with category GRPO, and nothing else is', () => {
  const contributed = (manifest.contributes.commands as { command: string; category: string }[]).filter((c) => c.command.startsWith('grpo.'));
  assert.deepEqual(contributed.map((c) => c.command).sort(), Object.values(CommandId).sort());
  assert.ok(contributed.every((c) => c.category === 'GRPO'));
});

test('readSettings takes valid values and falls back to defaults for wrong types', () => {
  const given: Record<string, unknown> = { configFile: ' sub/grpo.config.json ', nodePath: '/usr/bin/node', pythonPath: ' /venv/bin/python ', backend: 'wasm', rewardTimeoutMs: 5000, stopGraceMs: 100 };
  assert.deepEqual(readSettings((k) => given[k]), {
    configFile: 'sub/grpo.config.json', nodePath: '/usr/bin/node', pythonPath: '/venv/bin/python', backend: 'wasm', rewardTimeoutMs: 5000, stopGraceMs: 100,
  } satisfies GrpoSettings);
  const wrong: Record<string, unknown> = { configFile: 3, nodePath: null, pythonPath: 7, backend: 'gpu', rewardTimeoutMs: -1, stopGraceMs: 1.5 };
  assert.deepEqual(readSettings((k) => wrong[k]), DEFAULT_SETTINGS);
  assert.deepEqual(readSettings(() => undefined), DEFAULT_SETTINGS);
});

test('training is refused in an untrusted workspace, saying why and how to allow it', () => {
  assert.equal(untrustedRefusal(true, 'training'), undefined);
  const message = untrustedRefusal(false, 'training');
  assert.match(String(message), /Restricted Mode/);
  assert.match(String(message), /reward functions/);
  assert.match(String(message), /Manage Workspace Trust/);
});

test('the manifest declares limited support for untrusted workspaces and the config schema', () => {
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.ok(manifest.capabilities.untrustedWorkspaces.description.length > 0);
  assert.deepEqual(manifest.contributes.jsonValidation, [{ fileMatch: 'grpo.config.json', url: './out/grpo.config.schema.json' }]);
  assert.equal(manifest.main, './out/extension.js');
});
