#!/usr/bin/env bash
# A newcomer's first hour, as a script CI runs (`.ci/run`, after the test suites). It takes a
# fresh copy of the repository, as a clone has it (tracked files and new ones git does not
# ignore; no node_modules, no out/), follows the README's commands in the README's order, and
# makes the mistakes a newcomer makes on the way. Each step prints what it checks; the first
# that fails stops the script with the output that failed it. The README's second command
# (`npm test && npm run test:e2e`) is the rest of `.ci/run` and is not repeated here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
clone="$work/grpo-studio"
out="$work/out.txt"
err="$work/err.txt"

step() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'newcomer check FAILED: %s\n--- stdout\n' "$*" >&2
  tail -n 40 "$out" >&2 || true
  printf -- '--- stderr\n' >&2
  tail -n 40 "$err" >&2 || true
  exit 1
}

# expect CODE COMMAND...: runs COMMAND in the copy; its exit status must be CODE, and nothing it
# prints may be a stack trace (a user's mistake gets a message, not a trace).
expect() {
  local code="$1" got=0
  shift
  (cd "$clone" && "$@") >"$out" 2>"$err" || got=$?
  [ "$got" = "$code" ] || fail "$* exited $got, expected $code"
  ! grep -qE '^\s+at .*(\.js|\.ts|<anonymous>)' "$out" "$err" || fail "$* printed a stack trace"
}
# says REGEX: the last command's output (stdout and stderr) has a line matching REGEX.
says() { cat "$out" "$err" | grep -qE -- "$1" || fail "expected output matching: $1"; }
# error_is REGEX: the last command's error is exactly one line (besides the backend line), matching REGEX.
error_is() {
  local lines
  lines="$(grep -v '^backend ' "$err" || true)"
  [ "$(printf '%s\n' "$lines" | grep -c .)" = 1 ] || fail "expected a one-line error, got: $lines"
  printf '%s\n' "$lines" | grep -qE -- "$1" || fail "expected the error to match $1, got: $lines"
  ! printf '%s\n' "$lines" | grep -q '^grpo: grpo ' || fail "the command is named twice: $lines"
}
grpo() { node bin/grpo.js "$@"; }

step "a fresh clone"
mkdir -p "$clone"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$clone"
[ ! -e "$clone/node_modules" ] && [ ! -e "$clone/out" ] || fail "the copy is not fresh"

step "README, docs: the design notes are in the repository"
[ -f "$clone/docs/DESIGN.md" ] && [ -f "$clone/docs/ENGINE.md" ] || fail "docs/DESIGN.md or docs/ENGINE.md is missing"
! grep -q "shared DESIGN.md" "$clone/README.md" || fail "README.md points at a DESIGN.md outside the repository"

step "npm ci"
expect 0 npm ci --no-audit --no-fund

step "bin/grpo.js before a build says to build"
expect 1 grpo --help
error_is '^grpo: out/cli\.js is not built yet; run `npm run build` in \. first'

step "npm run package, from the fresh clone, builds what it packs"
expect 0 npm run package
[ -f "$clone/grpo-studio.vsix" ] && [ -f "$clone/out/extension.js" ] || fail "no grpo-studio.vsix, or no out/ built for it"
expect 0 npm run package -- --target darwin-arm64
says 'wrote grpo-studio-darwin-arm64\.vsix'
expect 0 node --import tsx -e "
  const { zipEntries } = require('./test/helpers/zip-entries.ts');
  const names = zipEntries('grpo-studio-darwin-arm64.vsix').map((e) => e.name);
  for (const n of ['extension/out/extension.js', 'extension/node_modules/@esbuild/darwin-arm64/bin/esbuild', 'extension/src/rewards/README.md']) {
    if (!names.includes(n)) { console.error('missing ' + n); process.exit(1); }
  }
  if (names.some((n) => n.includes('@esbuild/linux-'))) { console.error('holds a Linux binary'); process.exit(1); }"

step "npm run demo: the accuracies the README states"
expect 0 npm run demo
readme_before="$(grep -oE 'from [0-9]+% to [0-9]+%' "$clone/README.md" | head -1 | grep -oE '[0-9]+' | sed -n 1p)"
readme_after="$(grep -oE 'from [0-9]+% to [0-9]+%' "$clone/README.md" | head -1 | grep -oE '[0-9]+' | sed -n 2p)"
summary="$(grep -E '^  held-out reward [0-9.]+ before training -> [0-9.]+ after iteration' "$out")" || fail "the demo printed no held-out summary"
printf '%s\n' "$summary" "$(grep -E '^completed [0-9]+ iterations in ' "$out")"
# The README rounds to whole percents; either rounding of a half is the same figure.
awk -v s="$summary" -v b="$readme_before" -v a="$readme_after" 'BEGIN {
  split(s, w, " "); d1 = w[3] * 100 - b; d2 = w[7] * 100 - a
  exit !(d1 * d1 <= 0.2500001 && d2 * d2 <= 0.2500001)
}' || fail "the demo printed: ${summary# }; the README says from $readme_before% to $readme_after%"
says '^  best checkpoint: '
says '^  to train further: node bin/grpo\.js train --resume \S+ --num_iterations N'

step "grpo alone lists the commands, with a non-zero exit"
expect 2 grpo
says '^  train '

step "one flag grammar: dashes or underscores in every command, negative numbers, the closest name"
cfg=examples/demo/grpo.config.json
expect 1 grpo train --config "$cfg" --learnig_rate 1e-4
error_is '^grpo train: unknown flag --learnig_rate; did you mean --learning_rate\? \(see grpo train --help\)$'
expect 1 grpo train --config "$cfg" --kl_coef -1
error_is '^grpo train: --kl_coef must be a number >= 0, got "-1"$'
expect 0 grpo train --config "$cfg" --learning-rate 1e-4 --num-iterations 1 --eval-every 0 --output_dir "$work/runs"
says '^completed 1 iterations in '
printf '{"prompt": "2+2=", "answer": "4"}\n' >"$clone/pairs.jsonl"
expect 0 grpo sft --model examples/demo/model --dataset pairs.jsonl --out "$work/sft" --epochs 1 --learning_rate 1e-4
expect 1 grpo generate --model examples/demo/model --prompt "1+1=" --top-p 2
error_is '^grpo generate: --top-p must be in 0\.\.1, got 2$'

step "first-run defaults: no overwriting without --force"
expect 1 grpo init-model --arch llama --out README.md
error_is '^grpo init-model: --out README\.md is a file; give a folder path'
expect 1 grpo init-model --arch llama --out examples
error_is '^grpo init-model: --out examples is not empty; choose a new folder, or pass --force'
expect 1 grpo sft --model examples/demo/model --dataset pairs.jsonl --out examples/demo
error_is '^grpo sft: --out examples/demo is not empty; choose a new folder, or pass --force'

step "every model command says which backend and why; the cpu backend prints no banner"
expect 0 grpo generate --model examples/demo/model --prompt "1+1=" --max-new-tokens 2 --backend cpu
says '^backend cpu: forced by --backend$'
! grep -q "looks like you are running TensorFlow.js in Node" "$err" || fail "TF.js's cpu banner was printed"
expect 0 grpo score --model examples/demo/model --text "1+1=2" --json
says '^backend (wasm|tensorflow|cpu): .+'

step "a reward that fails every sample warns loudly, and train exits 3; its console.log goes to reward-logs/"
printf 'export function broken(s: { completion: string }) {\n  console.log("saw", s.completion);\n  throw new Error("not yet");\n}\n' >"$clone/broken.reward.ts"
expect 3 grpo train --model_path examples/demo/model --dataset_path examples/demo/train.jsonl --reward broken.reward.ts \
  --num_iterations 6 --rollout_batch_size 2 --group_size 2 --max_new_tokens 3 --output_dir "$work/broken"
says '^!! no learning signal in iterations 1-5: no reward function gave any completion a value'
grep -qE '^broken: saw ' "$work"/broken/*/reward-logs/iter-000001.log || fail "reward-logs/iter-000001.log lacks the reward's console.log lines"

step "Ctrl-C stops with exit 4, and the printed command continues the run"
(cd "$clone" && exec node bin/grpo.js train --config "$cfg" --num_iterations 400 --eval_every 0 --output_dir "$work/stopped" >"$out" 2>"$err") &
pid=$!
for _ in $(seq 1 300); do grep -qE '^ +2/400 ' "$out" 2>/dev/null && break; sleep 0.2; done
kill -INT "$pid"
code=0
wait "$pid" || code=$?
[ "$code" = 4 ] || fail "a stopped train exited $code, expected 4"
resume="$(grep -oE 'to continue: .+$' "$out" | sed 's/^to continue: //')" || fail "no resume command printed"
# shellcheck disable=SC2086 # the printed command is words, as a user pastes it
expect 0 $resume --num_iterations 6
says '^completed 6 iterations in '

printf '\nnewcomer check passed\n'
