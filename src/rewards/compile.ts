// Compiles a reward file and the workspace files it imports into one CommonJS bundle with
// esbuild, and names each version by the content hash of its inputs.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { build, type BuildFailure, type Plugin } from 'esbuild';
import { UserError } from '../errors';

/** The module reward files import the API from; its types are in types/reward.d.ts. */
const REWARD_API_MODULE = 'grpo-studio/reward';

// The whole runtime of the reward API: `batched` only tags a function (see types/reward.d.ts;
// types/reward.js is the same line for code run outside GRPO Studio).
const rewardApiRuntime = 'exports.batched = (score) => ({ batched: true, score });';

const API_NAMESPACE = 'grpo-reward-api';
const rewardApiPlugin: Plugin = {
  name: API_NAMESPACE,
  setup(b) {
    b.onResolve({ filter: /^grpo-studio\/reward$/ }, () => ({ path: REWARD_API_MODULE, namespace: API_NAMESPACE }));
    b.onLoad({ filter: /.*/, namespace: API_NAMESPACE }, () => ({ contents: rewardApiRuntime, loader: 'js' }));
  },
};

export interface RewardBundle {
  /** Workspace-relative path of the reward file, with forward slashes. */
  file: string;
  /** Content hash of every input file; names this version in scores and reports. */
  version: string;
  /** Absolute paths of the files the bundle was built from (the reward file and its imports). */
  inputs: string[];
  /** CommonJS, with an inline source map whose paths are relative to `outDir`. */
  code: Uint8Array;
}

export interface CompileProblem {
  file: string;
  /** 1-based; 0 when esbuild gave no location. */
  line: number;
  /** 1-based, in UTF-16 code units as editors count; 0 when esbuild gave no location. */
  column: number;
  message: string;
}

/** A reward file that keeps a run from starting; `problem` locates it for an editor's Problems panel. */
export class RewardFileError extends UserError {
  constructor(
    message: string,
    readonly problem: CompileProblem,
  ) {
    super(message);
  }
}

export type CompileResult = { ok: true; bundle: RewardBundle } | { ok: false; problem: CompileProblem };

export function workspaceRelative(workspaceRoot: string, absFile: string): string {
  return relative(workspaceRoot, absFile).split(sep).join('/');
}

/** Hash of files' paths and contents (undefined: missing), the version name of a bundle. */
function hashContents(workspaceRoot: string, files: ReadonlyMap<string, Uint8Array | undefined>): string {
  const h = createHash('sha256');
  for (const abs of [...files.keys()].sort()) {
    const content = files.get(abs);
    h.update(workspaceRelative(workspaceRoot, abs)).update('\0');
    h.update(content ?? '\0missing').update('\0');
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * The version the inputs on disk would compile to now. A missing input hashes as missing, so
 * a deleted import changes the version and the failed recompile is reported once.
 */
export function hashInputs(workspaceRoot: string, inputs: readonly string[]): string {
  const read = (abs: string) => {
    try {
      return readFileSync(abs);
    } catch {
      return undefined;
    }
  };
  return hashContents(workspaceRoot, new Map(inputs.map((abs) => [abs, read(abs)])));
}

function isBuildFailure(e: unknown): e is BuildFailure {
  return Array.isArray((e as BuildFailure | null)?.errors);
}

/**
 * Bundles `absFile` for Node 20. `outDir` is where the bundle will be written: the source
 * map's paths are relative to it, so stacks in the worker point at the user's files.
 */
export async function compileRewardFile(workspaceRoot: string, absFile: string, outDir: string): Promise<CompileResult> {
  const file = workspaceRelative(workspaceRoot, absFile);
  // The files esbuild read, as it read them: an editor may save mid-build, and the version
  // must name exactly the code that was compiled.
  const read = new Map<string, Uint8Array>();
  const recordInputs: Plugin = {
    name: 'grpo-reward-inputs',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'file' }, async (args) => {
        const contents = await readFile(args.path);
        read.set(args.path, contents);
        return { contents, loader: 'default' };
      });
    },
  };
  try {
    const result = await build({
      entryPoints: [absFile],
      absWorkingDir: workspaceRoot,
      outfile: join(outDir, 'reward.js'),
      bundle: true,
      platform: 'node', // node builtins stay `require`s; workspace imports are bundled
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      write: false,
      logLevel: 'silent',
      plugins: [rewardApiPlugin, recordInputs],
    });
    return { ok: true, bundle: { file, version: hashContents(workspaceRoot, read), inputs: [...read.keys()], code: result.outputFiles[0].contents } };
  } catch (e) {
    if (!isBuildFailure(e)) throw e;
    const first = e.errors[0];
    const loc = first?.location;
    return {
      ok: false,
      problem: {
        file: loc ? workspaceRelative(workspaceRoot, isAbsolute(loc.file) ? loc.file : resolve(workspaceRoot, loc.file)) : file,
        line: loc?.line ?? 0,
        column: loc ? editorColumn(loc.lineText, loc.column) + 1 : 0,
        message: first?.text ?? e.message,
      },
    };
  }
}

/** esbuild counts columns in UTF-8 bytes; editors count UTF-16 code units. */
function editorColumn(lineText: string, byteColumn: number): number {
  return Buffer.from(lineText, 'utf8').subarray(0, byteColumn).toString('utf8').length;
}

export function formatProblem(p: CompileProblem): string {
  return `${p.file}${p.line > 0 ? `:${p.line}:${p.column}` : ''}: ${p.message}`;
}
