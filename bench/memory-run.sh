#!/usr/bin/env bash
# Trains a randomly initialised model of one of the bench's shapes on the demo's prompts and
# prints the memory plan beside each phase's measured peak (bench/RESULTS.md, "Memory").
#
#   bash bench/memory-run.sh SIZE PROMPTS GROUP NEW_TOKENS [ITERATIONS] [LORA_JSON]
#   bash bench/memory-run.sh 25m 8 8 64 2        # about 5 minutes on 2 cores
#   bash bench/memory-run.sh 135m 4 8 128 1      # about 20 minutes
#   bash bench/memory-run.sh 25m 8 8 64 2 '{"r": 16, "lora_alpha": 32, "target_modules": "all-linear"}'
#
# Rewards are the demo's exact-answer reward (a random model earns none; memory does not
# care), kl_coef 0.04 so the reference model is held too. Needs `npm run build` first.
set -euo pipefail
size="${1:?give a size: tiny, 25m or 135m}" prompts="${2:?prompts}" group="${3:?group size}" tokens="${4:?max new tokens}"
iterations="${5:-1}"
lora="${6:-}"
lora_line=""
[ -z "$lora" ] || lora_line=" \"lora\": $lora,"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

node "$root/bin/grpo.js" init-model --arch llama --size "$size" --out "$work/model" >/dev/null
cat >"$work/grpo.config.json" <<EOF
{
  "model_path": "$work/model",
  "dataset_path": "$root/examples/demo/train.jsonl",
  "rewards": [{ "file": "$root/examples/rewards/exact-answer.reward.ts" }],
  "output_dir": "$work/runs",
  "num_iterations": $iterations,
  "rollout_batch_size": $prompts,
  "group_size": $group,
  "max_new_tokens": $tokens,
  "kl_coef": 0.04,$lora_line
  "checkpoint_every": 0,
  "eval_every": 0
}
EOF
started=$(date +%s)
node "$root/bin/grpo.js" train --config "$work/grpo.config.json" >"$work/train.log" 2>&1 || { tail -20 "$work/train.log"; exit 1; }
echo "size $size, $prompts prompts x $group x $tokens new tokens, $iterations iteration(s), $(( $(date +%s) - started )) s${lora:+, lora $lora}"
grep -h 'memory plan\|^[^ ]* LoRA' "$work"/runs/*/log.txt | sed 's/^[^ ]* //'
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  for (const r of rows) {
    const m = Object.entries(r).filter(([k]) => k.startsWith("memory/")).map(([k, v]) => `${k.slice(7, -3)} ${v}`);
    console.log(`iteration ${r.iteration}: measured MiB: ${m.join(", ")}; generate ${r["time/generate"].toFixed(1)} s, score ${r["time/score_logprobs"].toFixed(1)} s, update ${r["time/update"].toFixed(1)} s`);
  }' "$(ls -d "$work"/runs/*/ | head -1)metrics.jsonl"
