// Dataset decorations: each row's latest group lands on the line the dataset loader read the row
// from (blank lines included), from the rollouts of a real `grpo train` run; the hover shows
// completions as literal text.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RunFolder } from '../src/run-folder/run-folder';
import { loadPromptDataset } from '../src/trainer/dataset';
import { groupsOfIteration, withNewer, type RowGroup } from '../src/extension/dataset-decorations/row-groups';
import { rowDecorations, rowHover, rowSummary } from '../src/extension/dataset-decorations/row-text';
import { grpo } from './helpers/cli';

const work = mkdtempSync(join(tmpdir(), 'grpo-dataset-decorations-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('each row of a real run is decorated on its own line of the dataset, blank lines and all', { timeout: 60_000 }, async () => {
  const model = grpo('init-model', '--arch', 'llama', '--out', join(work, 'model'), '--merges', '16', '--seed', '3');
  assert.equal(model.code, 0, model.stderr);
  const prompts = ['The cat', 'Hello', 'A tree', 'Sing'];
  // Blank lines (one with a carriage return) hold no row: row 2 sits on line 5.
  const dataset = `\n${JSON.stringify({ prompt: prompts[0] })}\n\n${JSON.stringify({ prompt: prompts[1] })}\r\n \r\n${prompts.slice(2).map((prompt) => JSON.stringify({ prompt })).join('\n')}\n`;
  writeFileSync(join(work, 'data.jsonl'), dataset);
  writeFileSync(join(work, 'len.reward.ts'), 'export function len(s: { completion: string }) { return s.completion.length; }\n');
  const config = {
    model_path: 'model', dataset_path: 'data.jsonl', rewards: [{ file: 'len.reward.ts' }], output_dir: 'runs',
    num_iterations: 2, rollout_batch_size: 4, group_size: 3, minibatch_size: 12, max_new_tokens: 4, kl_coef: 0, checkpoint_every: 0,
  };
  writeFileSync(join(work, 'grpo.config.json'), JSON.stringify(config));
  const r = grpo('train', '--config', join(work, 'grpo.config.json'));
  assert.equal(r.code, 0, r.stderr);
  const runDir = join(work, 'runs', readdirSync(join(work, 'runs'))[0]);

  const folder = new RunFolder(runDir);
  const records = (await folder.records(2))!;
  const groups = withNewer(groupsOfIteration((await folder.records(1))!, 1), groupsOfIteration(records, 2));
  assert.deepEqual([...groups.values()].map((g) => g.iteration), [2, 2, 2, 2], 'the newer iteration wins for every row');

  const decorations = rowDecorations(dataset, groups);
  assert.deepEqual(decorations.map((d) => d.line), [1, 3, 5, 6]);
  const lines = dataset.split('\n');
  const rows = await loadPromptDataset(join(work, 'data.jsonl'));
  for (const d of decorations) {
    const prompt = (JSON.parse(lines[d.line]) as { prompt: string }).prompt;
    const row = rows.find((x) => x.prompt === prompt)!;
    const group = groups.get(row.index)!;
    const ofRow = records.filter((x) => x.row === row.index);
    assert.deepEqual(ofRow.map((x) => x.prompt), [prompt, prompt, prompt], 'the rollout records of this line\'s row are its prompt\'s');
    const rewards = ofRow.map((x) => x.reward as number);
    assert.ok(Math.abs(group.meanReward! - rewards.reduce((a, b) => a + b, 0) / 3) < 1e-9);
    assert.equal(group.members[0].reward, Math.max(...rewards), 'best first');
    assert.equal(d.summary, rowSummary(group));
    assert.match(d.summary, /^iter 2 · mean reward -?\d+\.\d{3} · best \d+\.\d{3}: ".*"$/);
  }
});

const group = (completions: string[]): RowGroup => ({
  iteration: 3,
  meanReward: 0.5,
  members: completions.map((completion, i) => ({ completion, reward: 1 - i, advantage: i === 0 ? 1 : -1, rewards: { exact_match: 1 - i } })),
});

test('the hover shows a completion as text: markup, HTML and backtick fences do not escape', () => {
  const hostile = '<img src=x onerror=alert(1)> **bold** ```\n[link](command:grpo.stopTraining)';
  const hover = rowHover(group([hostile, 'plain']));
  const fence = '````'; // one longer than the completion's own ```
  assert.ok(hover.includes(`${fence}text\n${hostile}\n${fence}`), hover);
  assert.ok(hover.includes('exact\\_match 1\\.000'), 'function names are escaped outside the block');
  assert.equal(hover.split('\n---\n').length, 3, 'a title and one section per completion');
});

test('the summary shows the best completion on one line, cut to length', () => {
  const summary = rowSummary(group([`first line\n${'x'.repeat(100)}`, 'worse']));
  assert.equal(summary, `iter 3 · mean reward 0.500 · best 1.000: "first line ${'x'.repeat(48)}…"`);
});

test('a {"prompts": [...]} dataset has no line per row and gets no decorations', () => {
  const text = JSON.stringify({ prompts: ['a', 'b'] }, null, 2);
  assert.deepEqual(rowDecorations(text, new Map([[0, group(['x'])]])), []);
});

test('a row past the end of an edited dataset is not decorated', () => {
  const text = `${JSON.stringify({ prompt: 'only' })}\n`;
  assert.deepEqual(rowDecorations(text, new Map([[0, group(['x'])], [5, group(['y'])]])).map((d) => d.line), [0]);
});
