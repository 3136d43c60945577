#!/usr/bin/env bash
# One GRPO iteration side by side (bench/compare.py): ours, TRL's GRPOTrainer, plain PyTorch,
# on the same model files, for each setting below; the records go to bench/compare-results.jsonl
# (or $OUT) and the table of all of them is printed at the end.
#
#   bash bench/compare.sh [SETTING ...]     a SETTING is MODEL:PROMPTS:PROMPT_TOKENS:NEW_TOKENS,
#                                           MODEL one of demo, 25m, 135m; default: demo and 25m at 4:32:64
#   ENGINE=tfjs bash bench/compare.sh ...   our rollouts through tfjs (or llama.cpp), not as auto picks
#
# Python: $GRPO_TRL_PYTHON, else the virtual environment .ci/run makes (~/.cache/grpo-studio-trl/venv),
# with trl, torch and transformers. Run `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${GRPO_TRL_PYTHON:-$HOME/.cache/grpo-studio-trl/venv/bin/python}"
OUT="${OUT:-bench/compare-results.jsonl}"
MODELS="${MODELS:-/tmp/grpo-compare-models}"
GROUP="${GROUP:-8}"
ENGINE="${ENGINE:-auto}"
[ -x "$PY" ] || { echo "compare.sh: no Python at $PY (set GRPO_TRL_PYTHON)" >&2; exit 1; }
[ -f out/cli.js ] || { echo "compare.sh: out/cli.js is missing: run npm run build" >&2; exit 1; }
settings=("$@")
[ ${#settings[@]} -gt 0 ] || settings=(demo:4:32:64 25m:4:32:64)

model_dir() {
  case "$1" in
    demo) echo examples/demo/model ;;
    25m|135m)
      # Written by our own writer; no BPE merges, so a prompt of N letters is N tokens on both sides.
      [ -f "$MODELS/$1/model.safetensors" ] || node out/cli.js init-model --arch llama --size "$1" --merges 0 --out "$MODELS/$1" --force >&2
      echo "$MODELS/$1" ;;
    *) echo "compare.sh: unknown model $1 (demo, 25m, 135m)" >&2; exit 1 ;;
  esac
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${settings[@]}"; do
  IFS=: read -r model prompts prompt_tokens new_tokens <<<"$s"
  "$PY" bench/compare.py --model "$(model_dir "$model")" --prompts "$prompts" --group "$GROUP" \
    --prompt-tokens "$prompt_tokens" --new-tokens "$new_tokens" --rollout-engine "$ENGINE" --out "$OUT"
done
echo
echo "all records in $OUT:"
"$PY" bench/compare.py --table "$OUT"
