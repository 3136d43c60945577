// GRPO: Save Checkpoint Now: the last completed iteration, at the next iteration boundary.
import type { HostState } from '../host-state';
import { withSession } from './with-session';

export function saveCheckpointNow(state: HostState): void {
  withSession(state, (s) => s.saveCheckpoint());
}
