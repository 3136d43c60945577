// What the Runs view's run and checkpoint items say: descriptions short enough for one line of
// the tree, the details in tooltips. No `vscode` here, so the text is testable without it.
import { describeAdapter } from '../../trainer/adapter-info';
import type { CheckpointEntry, RunSummary } from './run-list';

/** "iter 42/600 · reward 0.612 · LoRA r=16", led by "training" for the run of this window's session. */
export function runDescription(run: RunSummary, training: boolean): string {
  const parts: string[] = training ? ['training'] : [];
  if (run.iteration === undefined) parts.push(training ? 'starting' : 'no iterations');
  else parts.push(`iter ${run.iteration}${run.total === undefined ? '' : `/${run.total}`}`);
  if (run.reward !== undefined) parts.push(`reward ${run.reward === null ? 'n/a' : run.reward.toFixed(3)}`);
  if (run.adapter) parts.push(`LoRA r=${run.adapter.r}`);
  return parts.join(' · ');
}

/** The run folder, and for a LoRA run the whole adapter line: alpha, targets, trained against base. */
export function runTooltip(run: RunSummary): string {
  return run.adapter ? `${run.path}\n${describeAdapter(run.adapter)}` : run.path;
}

export function checkpointDescription(checkpoint: CheckpointEntry): string {
  return checkpoint.adapter ? 'LoRA adapter' : 'checkpoint';
}

export function checkpointTooltip(checkpoint: CheckpointEntry): string {
  const what = checkpoint.adapter
    ? 'A PEFT LoRA adapter (adapter_config.json, adapter_model.safetensors), not a whole model. ' +
      'Export Model writes it as the adapter, or merged into its base model as a plain Hugging Face folder.'
    : 'Export Model copies its Hugging Face model folder out of the run.';
  return `${checkpoint.path}\n${what}`;
}
