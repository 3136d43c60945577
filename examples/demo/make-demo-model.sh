#!/usr/bin/env bash
# Rebuilds the demo's warm-start model, examples/demo/model, from nothing: the data, a random
# 0.33M-parameter LLaMA (d=128, 2 layers, one token per byte), then a short SFT on the sloppy
# teacher's answers (see make-data.mjs). Seeded throughout, so it makes the same model again
# on the same backend; about 2 minutes on 2 cores. Prints what the GRPO demo starts from.
# Run `npm run build` first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
grpo() { node "$here/../../bin/grpo.js" "$@"; }

node "$here/make-data.mjs"
init="$(mktemp -d)"
trap 'rm -rf "$init"' EXIT
grpo init-model --arch llama --out "$init" --force --seed 0 --merges 0 \
  --hidden-size 128 --layers 2 --heads 4 --kv-heads 2 --intermediate-size 256
rm -rf "$here/model"
grpo sft --model "$init" --dataset "$here/sft.jsonl" --out "$here/model" --backend wasm \
  --epochs 48 --batch-size 32 --learning-rate 3e-3 --lr-schedule linear --seed 0
node "$here/evaluate.mjs" "$here/model"
