// The name a reward file's default export goes by, in weights and `rewards/<name>/mean` metrics.
// The worker names it with this, and the editor finds it with this.

/** `rewards/format.reward.ts` -> `format`. */
export function defaultRewardName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.[cm]?[jt]s$/, '').replace(/\.reward$/, '');
}
