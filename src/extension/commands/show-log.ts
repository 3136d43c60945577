// GRPO: Show Log: the "GRPO Studio" output channel.
import type { HostState } from '../host-state';

export function showLog(state: HostState): void {
  state.output.show(true);
}
