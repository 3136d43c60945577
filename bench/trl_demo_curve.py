"""The bundled demo trained by TRL's GRPOTrainer, for a learning curve beside ours.

Same starting model (examples/demo/model), same prompts, the same exact-answer reward (ported
from examples/rewards/exact-answer.reward.ts), and the demo's settings in TRL's terms: 32
prompts x 8 completions per generation batch, 4 optimizer steps of 64 completions each, at
most 5 new tokens, dapo loss, no KL term, learning rate 1e-4 constant, max_grad_norm 1.
Held-out greedy accuracy is measured as `grpo train` measures it: greedy completions of the
200 held-out prompts, before training and every --eval-every iterations.

    python bench/trl_demo_curve.py [--iterations 600] [--eval-every 100] [--threads 2] [--out FILE]

Prints one JSON line per evaluation and a summary; --out writes them as JSON.
"""

import argparse
import json
import os
import re
import sys
import time
import warnings

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "examples", "demo")
STEPS_PER_ITERATION = 4  # 256 completions / 64 per optimizer step
warnings.filterwarnings("ignore")


def final_answer(text):
    """What follows the last '####' on its line, or else the last number (examples/rewards/lib/answers.ts)."""
    marker = text.rfind("####")
    if marker >= 0:
        after = text[marker + 4:].split("\n")[0].strip()
        if after:
            return after
    found = re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)
    return found[-1] if found else None


def as_number(s):
    t = re.sub(r"[,$\s]", "", s)
    t = re.sub(r"\.$", "", t)
    return float(t) if re.fullmatch(r"-?\d+(?:\.\d+)?", t) else None


def same_answer(a, b):
    x, y = as_number(a), as_number(b)
    if x is not None and y is not None:
        return x == y
    return a.strip().lower() == b.strip().lower()


def exact_answer(completions, answer, **kwargs):
    out = []
    for text, want in zip(completions, answer):
        got = final_answer(text)
        want = str(want)
        out.append(1.0 if got is not None and same_answer(got, final_answer(want) or want) else 0.0)
    return out


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def greedy_accuracy(model, tokenizer, rows, batch_size=256):
    model.eval()
    right = 0
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            enc = tokenizer([r["prompt"] for r in chunk], return_tensors="pt", padding=True, padding_side="left")
            out = model.generate(**enc, max_new_tokens=5, do_sample=False, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
            texts = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
            right += sum(exact_answer(texts, [r["answer"] for r in chunk]))
    model.train()
    return right / len(rows)


class HeldOut(TrainerCallback):
    def __init__(self, tokenizer, rows, every, lines):
        self.tokenizer, self.rows, self.every, self.lines = tokenizer, rows, every, lines
        self.started = time.perf_counter()
        self.eval_seconds = 0.0

    def record(self, model, iteration):
        t = time.perf_counter()
        acc = greedy_accuracy(model, self.tokenizer, self.rows)
        self.eval_seconds += time.perf_counter() - t
        line = {"iteration": iteration, "accuracy": acc, "train_seconds": time.perf_counter() - self.started - self.eval_seconds}
        self.lines.append(line)
        print(json.dumps(line), flush=True)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.started = time.perf_counter()
        self.record(model, 0)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % (self.every * STEPS_PER_ITERATION) == 0:
            self.record(model, state.global_step // STEPS_PER_ITERATION)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iterations", type=int, default=600)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out")
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    model_dir = os.path.join(DEMO, "model")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    train = read_jsonl(os.path.join(DEMO, "train.jsonl"))
    heldout = read_jsonl(os.path.join(DEMO, "heldout.jsonl"))
    args = GRPOConfig(
        output_dir="/tmp/trl-demo-curve", per_device_train_batch_size=64, steps_per_generation=STEPS_PER_ITERATION,
        num_generations=8, max_completion_length=5, learning_rate=1e-4, lr_scheduler_type="constant", beta=0.0,
        loss_type="dapo", epsilon=0.2, temperature=1.0, max_grad_norm=1.0, weight_decay=0.0,
        max_steps=a.iterations * STEPS_PER_ITERATION, logging_steps=STEPS_PER_ITERATION, save_strategy="no",
        report_to=[], seed=a.seed, use_cpu=True, bf16=False, fp16=False, disable_tqdm=True,
    )
    lines = []
    trainer = GRPOTrainer(
        model=model, reward_funcs=exact_answer, args=args, processing_class=tokenizer,
        train_dataset=Dataset.from_list([{"prompt": r["prompt"], "answer": str(r["answer"])} for r in train]),
        callbacks=[HeldOut(tokenizer, heldout, a.eval_every, lines)],
    )
    started = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - started
    summary = {"trl": __import__("trl").__version__, "torch": torch.__version__, "threads": a.threads, "iterations": a.iterations,
               "wall_seconds": wall, "train_seconds_per_iteration": lines[-1]["train_seconds"] / a.iterations, "evaluations": lines}
    print(json.dumps({k: v for k, v in summary.items() if k != "evaluations"}), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(summary, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
