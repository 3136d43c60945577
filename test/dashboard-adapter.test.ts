// The dashboard on a LoRA run: the snapshot carries the run's adapter (from adapter.json for a
// past run, from the session's run-started event while it trains), the message check holds it
// to its shape, the page writes the same line as the trainer, and a damaged adapter.json is
// logged and left out without costing the dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardChannel, type TrainingControls } from '../src/extension/dashboard/dashboard-channel';
import { hostMessageProblem, type AdapterInfoMessage, type HostMessage } from '../src/protocol/dashboard-messages';
import { DashboardEvents } from '../src/run-folder/event-messages';
import { RunFolder } from '../src/run-folder/run-folder';
import { snapshotMessage } from '../src/run-folder/snapshot';
import { describeAdapter, type AdapterInfo } from '../src/trainer/adapter-info';
import { adapterLine } from '../webview/adapter-line';
import { applyHostMessage, emptyState } from '../webview/dashboard-state';
import { ADAPTER, writeLoraRun } from './helpers/adapter-sample';
import { runInfo } from './helpers/dashboard-samples';
import { writeRun } from './helpers/run-folder-fixture';

// The message's shape and the trainer's type are the same record, both ways (checked by tsc).
const asMessage: AdapterInfoMessage = ADAPTER;
const asInfo: AdapterInfo = asMessage;

type Snapshot = Extract<HostMessage, { type: 'snapshot' }>;
const decodeToken = (id: number) => `<${id}>`;

function snapshotWith(adapter: unknown): unknown {
  return { type: 'snapshot', run: { ...runInfo(), adapter }, status: { state: 'finished', iteration: 0 }, metrics: [], rolloutIterations: [], rollouts: null, rewardFailures: [], evaluations: [] };
}

test('the snapshot check: an adapter is optional, checked field by field when present, and may carry fields it does not know', () => {
  assert.equal(hostMessageProblem(snapshotWith(undefined)), undefined);
  assert.equal(hostMessageProblem(snapshotWith(asInfo)), undefined);
  assert.equal(hostMessageProblem(JSON.parse(JSON.stringify(snapshotWith(ADAPTER)))), undefined, 'survives postMessage');
  assert.equal(hostMessageProblem(snapshotWith({ ...ADAPTER, lora_dropout: 0.05 })), undefined);
  const cases: [unknown, RegExp][] = [
    [{ ...ADAPTER, r: 1.5 }, /snapshot message: run\.adapter\.r: expected a non-negative integer, got 1\.5/],
    [{ ...ADAPTER, target_modules: [1] }, /run\.adapter\.target_modules\[0\]: expected a string, got 1/],
    [{ ...ADAPTER, use_rslora: 'no' }, /run\.adapter\.use_rslora: expected true or false/],
    [{ ...ADAPTER, trainable_parameters: -1 }, /run\.adapter\.trainable_parameters: expected a non-negative integer, got -1/],
    ['LoRA r=16', /run\.adapter: expected an object, got "LoRA r=16"/],
  ];
  for (const [adapter, reason] of cases) assert.match(hostMessageProblem(snapshotWith(adapter)) ?? 'accepted', reason);
});

test('the page writes the adapter line exactly as the trainer does', () => {
  const variants: AdapterInfo[] = [
    ADAPTER,
    { ...ADAPTER, lora_alpha: 8.5, use_rslora: true },
    { ...ADAPTER, modules_to_save: ['lm_head', 'embed_tokens'], trainable_parameters: 52_000_000 },
    { ...ADAPTER, target_modules: ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'], trainable_parameters: 999_999, base_parameters: 999 },
  ];
  assert.equal(adapterLine(ADAPTER), 'LoRA r=16 (alpha 32) on q_proj, v_proj: 0.590M trained of 134.52M');
  for (const a of variants) assert.equal(adapterLine(a), describeAdapter(a));
});

test('a past LoRA run opens with its adapter from adapter.json; a full run has none', async () => {
  const lora = await snapshotMessage(new RunFolder(writeLoraRun()), { readOnly: true, decodeToken });
  assert.deepEqual(lora.run.adapter, ADAPTER);
  assert.equal(hostMessageProblem(lora), undefined);
  const state = applyHostMessage(emptyState(), lora);
  assert.deepEqual(state.run?.adapter, ADAPTER, 'the page keeps it with the run');
  assert.deepEqual(applyHostMessage(state, { type: 'settings', settings: lora.run.settings }).run?.adapter, ADAPTER, 'a settings change keeps it');

  const full = await snapshotMessage(new RunFolder(writeRun(1)), { readOnly: true, decodeToken });
  assert.equal('adapter' in full.run, false);
});

test('a damaged adapter.json: the dashboard still opens with everything else, without the adapter line, and the log says why', async () => {
  const log: string[] = [];
  const errors: string[] = [];
  const runDir = writeLoraRun({ ...ADAPTER, r: 'x' });
  const page: HostMessage[] = [];
  const channel = new DashboardChannel(
    { runDir, decodeToken, openCompletion: () => {}, log: (l) => log.push(l), showError: (m) => errors.push(m) },
    (m) => page.push(m),
  );
  await channel.receive({ type: 'ready' });
  const snapshot = page[0] as Snapshot;
  assert.equal(snapshot.type, 'snapshot');
  assert.equal(snapshot.metrics.length, 2);
  assert.equal(snapshot.run.adapter, undefined);
  assert.deepEqual(errors, [], 'no error box for a label');
  assert.equal(log.length, 1);
  assert.match(log[0], /adapter\.json: r: expected a non-negative integer, got "x"; the run's adapter line is left out/);
});

test('live: the session\'s adapter from run-started reaches the snapshot of a page that loads before adapter.json is written', async () => {
  const runDir = writeRun(0); // the trainer has not written adapter.json yet
  const events = new DashboardEvents(new RunFolder(runDir), decodeToken);
  assert.equal(events.adapter, undefined);
  await events.messagesFor({ type: 'run-started', runDir, backend: 'wasm', model: '/m', parameters: 10, adapter: ADAPTER });
  assert.deepEqual(events.adapter, ADAPTER);

  const controls: TrainingControls = {
    pause: () => {},
    resume: () => {},
    step: () => {},
    stop: () => {},
    setLive: () => {},
    status: () => events.status,
    live: () => ({}),
    adapter: () => events.adapter,
  };
  const page: HostMessage[] = [];
  const channel = new DashboardChannel({ runDir, decodeToken, controls, openCompletion: () => {}, log: () => {}, showError: () => {} }, (m) => page.push(m));
  await channel.receive({ type: 'ready' });
  const snapshot = page[0] as Snapshot;
  assert.equal(snapshot.run.readOnly, false);
  assert.deepEqual(snapshot.run.adapter, ADAPTER);
  assert.equal(hostMessageProblem(snapshot), undefined);

  const full = new DashboardEvents(new RunFolder(runDir), decodeToken);
  await full.messagesFor({ type: 'run-started', runDir, backend: 'wasm', model: '/m', parameters: 10 });
  assert.equal(full.adapter, undefined, 'a full fine-tuning run has none');
});
