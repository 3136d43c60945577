// Messages between the trainer and its update worker (update-worker.ts, update-worker-main.ts).
import type { ModelConfig } from '../model/config';
import type { TrainingConfig } from './config';
import type { GrpoLossPartValues, StepCounts } from './loss';
import type { StepBatch, StepSettings } from './policy-step';

/** A tensor's values by name, as they cross threads. */
export type NamedArrays = [name: string, values: Float32Array, shape: number[]][];

export interface WorkerInit {
  wasmDir: string;
  modelConfig: ModelConfig;
  params: NamedArrays; // every parameter, in the trainer's layout
}

export interface ShareRequest {
  type: 'share';
  weights: NamedArrays; // the trainable parameters as they are now
  config: TrainingConfig;
  step: StepBatch;
  micro: number[][];
  firstIndex: number;
  settings: Omit<StepSettings, 'parallel'>;
  counts: StepCounts;
  threshold: number | undefined;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'shared'; loss: number; parts: Partial<GrpoLossPartValues>[]; grads: NamedArrays; logprobs?: Float32Array }
  | { type: 'error'; message: string };
