// GRPO: Stop. The trainer finishes its iteration and saves; after grpo.stopGraceMs it is ended by force.
import type { HostState } from '../host-state';
import { withSession } from './with-session';

export function stopTraining(state: HostState): void {
  withSession(state, (s) => s.stop());
}
