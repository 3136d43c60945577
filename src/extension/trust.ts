// Workspace Trust: training loads the workspace's reward code and model files, so it runs only
// in a trusted workspace. Checked in code as well as declared in the manifest.
import { UserError } from '../errors';

/** Why an action that runs workspace code is refused, or undefined where it may go ahead. */
export function untrustedRefusal(isTrusted: boolean, action: string): string | undefined {
  if (isTrusted) return undefined;
  return (
    `GRPO Studio: ${action} is disabled in Restricted Mode, because training runs the workspace's reward functions (code). ` +
    'Trust this workspace (Workspaces: Manage Workspace Trust) to train; viewing past runs works without it.'
  );
}

/**
 * The lowest-level check, where the trainer or the rescore process is started: every path
 * that would run reward code (a command, a view item, a dashboard, another extension calling
 * a command) goes through one of those two, so this holds even where a command forgot its own.
 */
export function assertWorkspaceTrusted(isTrusted: boolean, action: string): void {
  const refusal = untrustedRefusal(isTrusted, action);
  if (refusal) throw new UserError(refusal);
}
