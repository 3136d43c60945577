import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Python with TRL (or PEFT, which .ci/run installs beside it): GRPO_TRL_PYTHON, else the virtual environment .ci/run makes in
 * ~/.cache/grpo-studio-trl. Undefined (with the reason) where neither has trl.
 */
export function trlPython(module: 'trl' | 'peft' = 'trl'): { python?: string; reason?: string } {
  const candidates = [process.env.GRPO_TRL_PYTHON, join(homedir(), '.cache', 'grpo-studio-trl', 'venv', 'bin', 'python')].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  for (const python of candidates) {
    if (!existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', `import ${module}`], { encoding: 'utf8' });
    if (probe.status === 0) return { python };
  }
  return { reason: `no Python with ${module} (set GRPO_TRL_PYTHON, or let .ci/run make ${candidates[candidates.length - 1]})` };
}

/** Runs `script` (which writes goldens into the folder it is given) with TRL now; its folder, or why not. */
export function freshTrlGoldens(script: string): { dir?: string; python?: string; reason?: string } {
  const { python, reason } = trlPython();
  if (!python) return { reason };
  const dir = mkdtempSync(join(tmpdir(), 'grpo-trl-goldens-'));
  const run = spawnSync(python, [script, dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.status !== 0) throw new Error(`${script} failed under ${python}:\n${run.stderr.slice(-2000)}`);
  return { dir, python };
}
