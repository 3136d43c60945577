#!/usr/bin/env bash
# The GPU paths, measured where an NVIDIA GPU is at hand (our own machines have none):
#   1. the GPU (nvidia-smi) and whether torch sees it;
#   2. "engine": "trl" on CUDA: the bundled demo (50 iterations) and the bench's 135M shape
#      (5 iterations of 4 prompts x 8, 64 new tokens), seconds per iteration from metrics.jsonl;
#   3. the TF.js native backend (@tensorflow/tfjs-node-gpu), where it installs: grpo bench at 25m;
#   4. the WebGPU backend (Dawn, the optional webgpu package, on the NVIDIA Vulkan driver): its
#      start-up self-test, grpo bench at 25m, and 20 demo iterations beside wasm's.
# Figures go to stdout and, as a dated section, to bench/RESULTS.md.
#
#   bash scripts/gpu-check.sh            (after npm ci && npm run build; GRPO_PYTHON: a Python with trl)
#
# Exit status: 0 measured; 2 no NVIDIA GPU here; 1 something failed (the output says what).
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/grpo-gpu-check-XXXXXX)
report="$out/report.md"
python="${GRPO_PYTHON:-$HOME/.cache/grpo-studio-trl/venv/bin/python}"
[ -x "$python" ] || python=python3
say() { echo "$*" | tee -a "$report"; }

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU here (nvidia-smi finds none); nothing measured" >&2
  exit 2
fi
[ -f out/cli.js ] || { echo "gpu-check: out/cli.js is missing; run npm ci && npm run build first" >&2; exit 1; }

say ""
say "## GPU check, $(date -u +%Y-%m-%d) ($(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1))"
say ""
cuda=$("$python" -c 'import torch, trl; print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-", "trl", trl.__version__)' 2>&1 | tail -1)
say "- torch in $python: $cuda"

# Median seconds per iteration (iterations after the first two) of a run folder's metrics.
per_iteration() {
  "$python" - "$1" <<'EOF'
import json, statistics, sys
m = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
t = [x["time/iteration"] for x in m][2:] or [x["time/iteration"] for x in m]
print(f"{statistics.median(t):.3f} s per iteration over {len(m)} iterations, completions {statistics.mean(x['completions/mean_length'] for x in m):.1f} tokens")
EOF
}

trl_run() { # name, then grpo train flags
  local name=$1; shift
  if GRPO_PYTHON="$python" node out/cli.js train "$@" --engine trl --output_dir "$out/$name" > "$out/$name.log" 2>&1; then
    local run; run=$(ls -d "$out/$name"/*/ | head -1)
    say "- trl engine, $name: $(grep -o 'on cuda[^)]*' "$run/log.txt" | head -1 || echo 'not on cuda'); $(per_iteration "$run")"
  else
    say "- trl engine, $name: failed ($(tail -1 "$out/$name.log"))"
  fi
}

trl_run demo --config examples/demo/grpo.config.json --num_iterations 50 --checkpoint_every 0
node out/cli.js init-model --arch llama --size 135m --out "$out/135m" > /dev/null
trl_run 135m --model_path "$out/135m" --dataset_path examples/demo/train.jsonl --reward examples/rewards/exact-answer.reward.ts \
  --num_iterations 5 --rollout_batch_size 4 --group_size 8 --minibatch_size 32 --max_new_tokens 64 --kl_coef 0 --checkpoint_every 0

# tfjs-node-gpu downloads libtensorflow 2.9.1 (CUDA 11.2, cuDNN 8.1) from outside npm at install.
if (npm install --no-save @tensorflow/tfjs-node-gpu > "$out/tfjs-node-gpu.log" 2>&1); then
  bench=$(node out/cli.js bench --sizes 25m --backend tensorflow --json 2>&1 | tail -1)
  say "- tfjs-node-gpu, grpo bench --sizes 25m --backend tensorflow: $bench"
else
  say "- tfjs-node-gpu: did not install ($(grep -m1 -iE 'error|fail' "$out/tfjs-node-gpu.log" || tail -1 "$out/tfjs-node-gpu.log"))"
fi
tfjs_run() { # name, backend, then grpo train flags
  local name=$1 backend=$2; shift 2
  if node out/cli.js train "$@" --backend "$backend" --output_dir "$out/$name" > "$out/$name.log" 2>&1; then
    local run; run=$(ls -d "$out/$name"/*/ | head -1)
    say "- tfjs engine, $name: $(grep -o 'backend [a-z]*: .*' "$out/$name.log" | head -1); $(per_iteration "$run")"
  else
    say "- tfjs engine, $name: failed ($(tail -1 "$out/$name.log"))"
  fi
}
if [ -d node_modules/webgpu ]; then
  vulkan=$(ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | tr '\n' ' ')
  say "- Vulkan drivers listed: ${vulkan:-none}"
  bench=$(node out/cli.js bench --sizes 25m --backend webgpu --json 2>&1 | tail -1)
  say "- webgpu, grpo bench --sizes 25m --backend webgpu: $bench"
  tfjs_run demo-webgpu webgpu --config examples/demo/grpo.config.json --num_iterations 20 --checkpoint_every 0
  tfjs_run demo-wasm wasm --config examples/demo/grpo.config.json --num_iterations 20 --checkpoint_every 0
else
  say "- webgpu: the optional webgpu package is not installed (npm install webgpu@0.6.2)"
fi

cat "$report" >> bench/RESULTS.md
echo "gpu-check: figures appended to bench/RESULTS.md (logs in $out)"
