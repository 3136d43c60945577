// GRPO: Run One Iteration. While paused: one iteration, then paused again.
import type { HostState } from '../host-state';
import { withSession } from './with-session';

export function runOneIteration(state: HostState): void {
  withSession(state, (s) => s.step());
}
