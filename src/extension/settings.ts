// The extension's settings, mirroring `contributes.configuration` in package.json (same names,
// same docs, same defaults). Read through a getter so that the mapping is testable without VS Code.

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface GrpoSettings {
  /** The training config to use, relative to the first workspace folder. Empty: the workspace's grpo.config.json. */
  configFile: string;
  /** The Node executable that runs the trainer, e.g. one where @tensorflow/tfjs-node-gpu is installed. Empty: VS Code's own runtime. */
  nodePath: string;
  /** The Python of configs with "engine": "trl" (one with trl, peft and torch). Empty: GRPO_PYTHON, else python3. */
  pythonPath: string;
  /** TF.js backend for configs whose backend is "auto". */
  backend: Backend;
  /** Time limit of one reward-function call, in milliseconds; overrides reward_timeout_ms of the config. 0: the config's value. */
  rewardTimeoutMs: number;
  /** How long Stop waits for the trainer to finish its iteration and save before ending it by force, in milliseconds. */
  stopGraceMs: number;
}

export const DEFAULT_SETTINGS: Readonly<GrpoSettings> = Object.freeze({
  configFile: '',
  nodePath: '',
  pythonPath: '',
  backend: 'auto',
  rewardTimeoutMs: 0,
  stopGraceMs: 30_000,
});

/**
 * Settings from `get(name)` (VS Code's `getConfiguration('grpo').get`). A value of the wrong
 * type (hand-edited settings.json) falls back to the default rather than failing a command.
 */
export function readSettings(get: (name: keyof GrpoSettings) => unknown): GrpoSettings {
  const text = (name: 'configFile' | 'nodePath' | 'pythonPath'): string => {
    const v = get(name);
    return typeof v === 'string' ? v.trim() : DEFAULT_SETTINGS[name];
  };
  const count = (name: 'rewardTimeoutMs' | 'stopGraceMs'): number => {
    const v = get(name);
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : DEFAULT_SETTINGS[name];
  };
  const backend = get('backend');
  return {
    configFile: text('configFile'),
    nodePath: text('nodePath'),
    pythonPath: text('pythonPath'),
    backend: BACKENDS.includes(backend as Backend) ? (backend as Backend) : DEFAULT_SETTINGS.backend,
    rewardTimeoutMs: count('rewardTimeoutMs'),
    stopGraceMs: count('stopGraceMs'),
  };
}
