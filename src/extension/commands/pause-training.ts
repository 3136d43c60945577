// GRPO: Pause, at the next iteration boundary.
import type { HostState } from '../host-state';
import { withSession } from './with-session';

export function pauseTraining(state: HostState): void {
  withSession(state, (s) => s.pause());
}
