// GRPO: Resume a paused run.
import type { HostState } from '../host-state';
import { withSession } from './with-session';

export function resumeTraining(state: HostState): void {
  withSession(state, (s) => s.resume());
}
