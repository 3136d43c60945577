// Workspace Trust: training loads the workspace's reward code and model files, so it runs only
// in a trusted workspace. Checked in code as well as declared in the manifest.

/** Why an action that runs workspace code is refused, or undefined where it may go ahead. */
export function untrustedRefusal(isTrusted: boolean, action: string): string | undefined {
  if (isTrusted) return undefined;
  return (
    `GRPO Studio: ${action} is disabled in Restricted Mode, because training runs the workspace's reward functions (code). ` +
    'Trust this workspace (Workspaces: Manage Workspace Trust) to train; viewing past runs works without it.'
  );
}
