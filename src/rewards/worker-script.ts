// Where the reward worker's entry point is (engine/worker-script.ts).
import { join } from 'node:path';
import { workerScript } from '../engine/worker-script';

export function rewardWorkerScript(tmpDir: string): Promise<string> {
  return workerScript('reward-worker', join(__dirname, 'worker.ts'), tmpDir);
}
