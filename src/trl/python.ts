// The Python that runs TRL for the trl engine, and what it has installed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { UserError } from '../errors';

export interface TrlPython {
  executable: string;
  versions: { python: string; trl: string; transformers: string; torch: string; peft: string | null };
}

/**
 * The TRL release the engine is tested with (test/trl-engine.test.ts). Older releases lack
 * GRPOConfig fields the mapping sets (adaptive entropy, CISPO, multi-objective aggregation).
 */
export const MIN_TRL = [1, 13];

/** The folder holding the grpo_trl package: python/ at the top of the project or the extension. */
export function trlPackageRoot(): string {
  // Bundled: out/<bundle>.js; from sources (tests, tsx): src/trl/python.ts.
  return __filename.endsWith('.ts') ? join(__dirname, '..', '..', 'python') : join(__dirname, '..', 'python');
}

/** `given` (--python, the grpo.pythonPath setting), else GRPO_PYTHON, else python3 on PATH. */
export function pythonExecutable(given?: string): string {
  return given || process.env.GRPO_PYTHON || (process.platform === 'win32' ? 'python' : 'python3');
}

// Versions from the installed packages' metadata: importing torch and trl would cost seconds
// here and again in the engine process, which reports any import failure itself.
const PROBE = `
import json, sys
from importlib import metadata
out = {"python": sys.version.split()[0]}
for name in ("trl", "transformers", "torch", "peft"):
    try:
        out[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
`;

const INSTALL = 'pip install trl peft (torch comes with them)';

/** Checks `executable` runs and has trl, transformers, torch (and peft where LoRA is asked). */
export async function probePython(executable: string, needPeft: boolean): Promise<TrlPython> {
  const text = await new Promise<string>((resolve, reject) => {
    execFile(executable, ['-c', PROBE], { timeout: 120_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such executable' : (stderr.trim().split('\n').pop() ?? error.message);
        reject(new UserError(`the trl engine cannot start Python "${executable}" (${why}); set GRPO_PYTHON, the grpo.pythonPath setting or --python to a Python with trl (${INSTALL}), or use "engine": "tfjs"`));
      } else resolve(stdout);
    });
  });
  const v = JSON.parse(text.trim().split('\n').pop() ?? '{}') as Record<string, string | null>;
  const missing = ['trl', 'transformers', 'torch', ...(needPeft ? ['peft'] : [])].filter((n) => !v[n]);
  if (missing.length > 0) {
        throw new UserError(`the trl engine needs ${missing.join(', ')} in ${executable} (not installed there); run ${executable} -m ${INSTALL}, or point GRPO_PYTHON / grpo.pythonPath / --python at a Python that has them`);
  }
  const [major, minor] = (v.trl as string).split('.').map(Number);
  if (major < MIN_TRL[0] || (major === MIN_TRL[0] && minor < MIN_TRL[1])) {
    throw new UserError(`the trl engine needs TRL ${MIN_TRL.join('.')} or newer; ${executable} has ${v.trl}: run ${executable} -m pip install -U trl`);
  }
  return { executable, versions: { python: v.python!, trl: v.trl!, transformers: v.transformers!, torch: v.torch!, peft: v.peft ?? null } };
}
