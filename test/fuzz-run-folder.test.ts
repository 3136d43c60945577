// Fuzzing run folders as the dashboard and the Runs view read them: damaged copies of each file
// a run writes (config.json, metrics.jsonl, rollouts, reward errors, evaluations, adapter.json)
// give a snapshot the webview accepts, or a UserError naming the file; the token decoders and
// the adapter label never throw.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { hostMessageProblem } from '../src/protocol/dashboard-messages';
import { readAdapterFile } from '../src/run-folder/adapter-file';
import { DashboardEvents } from '../src/run-folder/event-messages';
import { RunDecoders } from '../src/run-folder/run-decoders';
import { RunFolder } from '../src/run-folder/run-folder';
import { snapshotMessage } from '../src/run-folder/snapshot';
import { writeLoraRun } from './helpers/adapter-sample';
import { FuzzCount, fuzzParameters, mutatedJson, mutatedJsonText, mutatedText, parsesOrRefuses } from './helpers/fuzz';

const run = writeLoraRun(undefined, 3);
after(() => rmSync(run, { recursive: true, force: true }));
writeFileSync(join(run, 'evaluations.jsonl'), [0, 3].map((iteration) => JSON.stringify({ iteration, prompts: 4, reward: 0.25, rewards: { exact: 0.25 } })).join('\n') + '\n');

const FILES = ['config.json', 'metrics.jsonl', 'rollouts/iter-000003.jsonl', 'reward-errors/iter-000001.json', 'evaluations.jsonl', 'adapter.json'];
const originals = new Map(FILES.map((f) => [f, readFileSync(join(run, f), 'utf8')]));
const decodeToken = (id: number) => `<${id}>`;

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** A JSONL file with one line restructured, or any file with damaged bytes. */
function mutant(name: string): fc.Arbitrary<string> {
  const text = originals.get(name)!;
  if (!name.endsWith('.jsonl')) return mutatedJsonText(JSON.parse(text));
  const lines = text.split('\n');
  // metrics.jsonl ends in a line cut off by a kill, as the trainer leaves it: only whole lines are restructured.
  const whole = lines.flatMap((l, i) => (isJson(l) ? [i] : []));
  return fc.oneof(
    fc.constantFrom(...whole).chain((at) =>
      mutatedJson(JSON.parse(lines[at])).map((m) => [...lines.slice(0, at), m.text, ...lines.slice(at + 1)].join('\n')),
    ),
    mutatedText(text, 4),
  );
}

for (const name of FILES) {
  test(`a run folder with a damaged ${name} opens in the dashboard or is refused naming the file`, async (t) => {
    const count = new FuzzCount(`run folder ${name}`);
    const file = join(run, name);
    const logged: string[] = [];
    await fc.assert(
      fc.asyncProperty(mutant(name), async (text) => {
        count.next();
        writeFileSync(file, text);
        const folder = new RunFolder(run);
        // adapter.json only labels the run: it is logged, never thrown.
        const mustName = name === 'adapter.json' ? [] : [file];
        const snapshot = await parsesOrRefuses(count, () => snapshotMessage(folder, { readOnly: true, decodeToken, log: (l) => logged.push(l) }), mustName);
        if (snapshot) assert.equal(hostMessageProblem(snapshot), undefined, 'the webview must accept the snapshot');
        const events = new DashboardEvents(folder, decodeToken);
        const messages = await parsesOrRefuses(count, () => events.messagesFor({ type: 'metrics', iteration: 3, metrics: { iteration: 3 } } as never), [file]);
        for (const m of messages ?? []) assert.equal(hostMessageProblem(m), undefined);
        const adapter = await readAdapterFile(run);
        assert.ok(adapter.problem === undefined || adapter.problem.startsWith(join(run, 'adapter.json')));
        const decoder = await new RunDecoders(() => {}).forRun(run);
        assert.equal(typeof decoder(5), 'string');
      }),
      fuzzParameters(name === 'metrics.jsonl' || name.startsWith('rollouts') ? 150 : 100),
    );
    writeFileSync(file, originals.get(name)!);
    count.report(t);
  });
}
