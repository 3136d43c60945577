// The exit status of `grpo`, so scripts and CI can tell how a command ended.
export const EXIT = {
  ok: 0,
  /** A mistake the message explains (bad flag, missing file, invalid config), or a failed run. */
  error: 1,
  /** No command, or an unknown one: the usage is printed. */
  usage: 2,
  /** `train` ran to the end, but its rewards gave no learning signal for a stretch (see run-health). */
  noSignal: 3,
  /** `train` was stopped (Ctrl-C, SIGTERM) before num_iterations and can be resumed. */
  stopped: 4,
  /** A second Ctrl-C: quit at once, the last checkpoint intact. */
  interrupted: 130,
} as const;
