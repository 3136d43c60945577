"""One GRPO iteration, side by side: `grpo bench --json`, TRL's GRPOTrainer and a plain PyTorch loop.

The same model folder (safetensors written by `grpo init-model`, or examples/demo/model), the same
workload: P prompts of N tokens, G completions each of exactly L tokens (EOS never ends a row:
ours ignores it, TRL and PyTorch are given min_new_tokens=L), one AdamW step over all P x G
completions, dapo loss, no KL term, a reward that is the share of even token ids. Each side runs
`--iterations` iterations in its own process (so that peak RSS is its own) and reports the last,
after warm-up. torch uses --threads threads; ours is the wasm backend (one thread).

    python bench/compare.py --model DIR --prompts P --group G --prompt-tokens N --new-tokens L [--out FILE]
    python bench/compare.py --table FILE      # the table of every setting in FILE (JSON lines)

Internal: --side trl|torch runs one Python side and prints its JSON object.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHASES = ["rollout_s", "logprobs_s", "reward_s", "update_s", "iteration_s"]
RATES = ["decode_tokens_per_s", "prefill_tokens_per_s", "update_tokens_per_s"]
warnings.filterwarnings("ignore")


def even_token_share(ids):
    """The built-in reward of `grpo bench` (src/cli/commands/bench-iteration.ts)."""
    return sum(1 for i in ids if i % 2 == 0) / len(ids)


def prompt_texts(tokenizer, count, tokens, seed=3):
    """`count` prompts of exactly `tokens` tokens: letters, which a byte-level tokenizer without merges encodes one token each."""
    rng = random.Random(seed)
    texts = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(tokens)) for _ in range(count)]
    for t in texts:
        n = len(tokenizer(t, add_special_tokens=False).input_ids)
        if n != tokens:
            sys.exit(f"compare.py: a prompt of {tokens} letters is {n} tokens; write the model with `grpo init-model --merges 0`")
    return texts


def pass_flops(cfg, tokens, keys, head_tokens):
    """Matmul FLOPs of a forward pass, as src/cli/commands/bench-flops.ts counts them."""
    d, hd = cfg.hidden_size, cfg.head_dim if getattr(cfg, "head_dim", None) else cfg.hidden_size // cfg.num_attention_heads
    q, kv = cfg.num_attention_heads * hd, cfg.num_key_value_heads * hd
    proj = 2 * tokens * (d * (q + 2 * kv) + q * d + 3 * d * cfg.intermediate_size)
    return cfg.num_hidden_layers * (proj + 4 * tokens * keys * q) + 2 * head_tokens * d * cfg.vocab_size


def iteration_flops(cfg, p, g, n, l, scores_old):
    rows, seq = p * g, n + l
    decode = sum(pass_flops(cfg, rows, n + s, rows) for s in range(1, l))
    score = pass_flops(cfg, rows * seq, seq, rows * l)
    return pass_flops(cfg, p * n, n, p) + decode + (score if scores_old else 0) + 3 * score


def torch_peak():
    import torch
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    best = float("inf")
    for i in range(6):
        t = time.perf_counter()
        torch.mm(a, b)
        if i > 0:
            best = min(best, time.perf_counter() - t)
    return 2 * 1024**3 / best / 1e9


class FirstToken:
    """A logits processor that notes when generation reaches its first sampling step (the prefill's end)."""

    def __init__(self):
        self.at = None

    def __call__(self, input_ids, scores):
        if self.at is None:
            self.at = time.perf_counter()
        return scores


def finish(a, cfg, t, scores_old, backend):
    p, g, n, l = a.prompts, a.group, a.prompt_tokens, a.new_tokens
    rows = p * g
    return {
        "backend": backend,
        **{k: t[k] for k in PHASES},
        "tokens_generated": t["tokens"],
        "decode_tokens_per_s": rows * (l - 1) / (t["rollout_s"] - t["prefill_s"]),
        "prefill_tokens_per_s": p * n / t["prefill_s"],
        "update_tokens_per_s": rows * (n + l) / t["update_s"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "gflops_achieved": iteration_flops(cfg, p, g, n, l, scores_old) / t["iteration_s"] / 1e9,
        "gflops_peak": torch_peak(),
    }


def run_torch(a):
    """A plain GRPO iteration: KV-cache sampling, old log-probs, reward, advantages, clipped loss (dapo), AdamW."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LogitsProcessorList

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    enc = tok(prompt_texts(tok, a.prompts, a.prompt_tokens), return_tensors="pt", add_special_tokens=False)
    opt = torch.optim.AdamW(model.parameters(), lr=a.learning_rate, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    n, l, g = a.prompt_tokens, a.new_tokens, a.group
    # Sampling as TRL configures it (GRPOTrainer.__init__), num_return_sequences for the group.
    sampling = GenerationConfig(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=l, min_new_tokens=l, num_return_sequences=g,
                                use_cache=True, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                disable_compile=True)

    def logps(seq):  # [rows, L]: log p of each completion token; the head only on the positions that predict them
        logits = model(input_ids=seq, logits_to_keep=l + 1).logits[:, :-1]
        return torch.log_softmax(logits.float(), dim=-1).gather(-1, seq[:, n:, None]).squeeze(-1)

    for _ in range(a.iterations):
        first = FirstToken()
        t0 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            seq = model.generate(**enc, generation_config=sampling, logits_processor=LogitsProcessorList([first]))
        model.train()
        t1 = time.perf_counter()
        assert seq.shape == (a.prompts * g, n + l), seq.shape
        with torch.no_grad():
            old = logps(seq)
        t2 = time.perf_counter()
        rewards = torch.tensor([even_token_share(r.tolist()) for r in seq[:, n:]]).view(-1, g)
        adv = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-4)).view(-1, 1)
        t3 = time.perf_counter()
        lp = logps(seq)
        ratio = torch.exp(lp - old)
        loss = -torch.min(ratio * adv, torch.clamp(ratio, 0.8, 1.2) * adv).sum() / lp.numel()  # dapo: over every token
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        t4 = time.perf_counter()
        t = {"rollout_s": t1 - t0, "prefill_s": first.at - t0, "logprobs_s": t2 - t1, "reward_s": t3 - t2, "update_s": t4 - t3,
             "iteration_s": t4 - t0, "tokens": int(seq[:, n:].numel())}
    return finish(a, model.config, t, True, f"torch {torch.__version__} cpu, {a.threads} threads")


def run_trl(a):
    """TRL's GRPOTrainer on CPU; phases timed by wrapping its own methods, the iteration by a callback."""
    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(a.threads)
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    n, l, g = a.prompt_tokens, a.new_tokens, a.group
    texts = prompt_texts(tok, a.prompts, n)
    times = {}
    first = FirstToken()
    generate = model.generate
    model.generate = lambda *x, **kw: generate(*x, **kw, logits_processor=LogitsProcessorList([first]))

    def reward(completions, completion_ids, **kwargs):
        return [even_token_share(ids) for ids in completion_ids]

    class Timed(GRPOTrainer):
        def _generate(self, prompts):
            first.at = None
            t = time.perf_counter()
            out = super()._generate(prompts)
            times["rollout_s"] = time.perf_counter() - t
            times["prefill_s"] = first.at - t
            lengths = {len(c) for c in out[1]} | {len(p) + l for p in out[0]}
            assert lengths == {l} | {n + l}, f"TRL sampled or tokenized other lengths: {sorted(lengths)}"
            times["tokens"] = sum(len(c) for c in out[1])
            return out

        def _calculate_rewards(self, *x, **kw):
            t = time.perf_counter()
            out = super()._calculate_rewards(*x, **kw)
            times["reward_s"] = times.get("reward_s", 0) + time.perf_counter() - t
            return out

        def _generate_and_score_completions(self, *x, **kw):
            t = time.perf_counter()
            times["scoring"] = True
            out = super()._generate_and_score_completions(*x, **kw)
            times["scoring"] = False
            times["generate_and_score_s"] = time.perf_counter() - t
            return out

        def _get_per_token_logps_and_entropies(self, *x, **kw):
            t = time.perf_counter()
            out = super()._get_per_token_logps_and_entropies(*x, **kw)
            if times.get("scoring"):  # old (or reference) log-probs; TRL skips them when each rollout gets one step
                times["logprobs_s"] = times.get("logprobs_s", 0) + time.perf_counter() - t
            return out

    steps = []

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            times.clear()
            times["start"] = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            it = time.perf_counter() - times["start"]
            # What the step did besides generating and scoring is the update: forward, backward, clipping, AdamW.
            steps.append({**{k: times.get(k, 0.0) for k in ("rollout_s", "prefill_s", "logprobs_s", "reward_s", "tokens")},
                          "update_s": it - times["generate_and_score_s"], "iteration_s": it})
    args = GRPOConfig(
        output_dir="/tmp/grpo-compare-trl", per_device_train_batch_size=a.prompts * g, num_generations=g, steps_per_generation=1,
        max_completion_length=l, generation_kwargs={"min_new_tokens": l}, temperature=1.0, top_k=0, top_p=1.0,
        learning_rate=a.learning_rate, lr_scheduler_type="constant", beta=0.0, loss_type="dapo", epsilon=0.2, max_grad_norm=1.0,
        weight_decay=0.0, max_steps=a.iterations, logging_steps=10**6, save_strategy="no", report_to=[], seed=1, use_cpu=True,
        bf16=False, fp16=False, disable_tqdm=True, shuffle_dataset=False, dataloader_num_workers=0,
    )
    trainer = Timed(model=model, reward_funcs=reward, args=args, processing_class=tok,
                    train_dataset=Dataset.from_list([{"prompt": t} for t in texts * a.iterations]), callbacks=[Clock()])
    trainer.train()
    return finish(a, model.config, steps[-1], False, f"trl {trl.__version__}, torch {torch.__version__} cpu, {a.threads} threads")


def run_ours(a):
    cmd = ["node", os.path.join(ROOT, "out", "cli.js"), "bench", "--model", a.model, "--prompts", str(a.prompts), "--group", str(a.group),
           "--prompt-tokens", str(a.prompt_tokens), "--new-tokens", str(a.new_tokens), "--backend", a.backend,
           "--rollout-engine", a.rollout_engine, "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"compare.py: {' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_side(a, side):
    cmd = [sys.executable, os.path.abspath(__file__), "--side", side] + [x for k, v in vars(a).items()
                                                                         if k not in ("side", "out", "table") and v is not None
                                                                         for x in (f"--{k.replace('_', '-')}", str(v))]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"compare.py: the {side} side failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def table(records):
    lines = []
    for rec in records:
        s = rec["setting"]
        lines.append(f"\n{s['model']}: {s['prompts']} prompts x {s['group']}, prompt {s['prompt_tokens']}, {s['new_tokens']} new tokens "
                     f"({rec['when']}, {rec['iterations']} iterations each, the last timed; our rollouts: {s.get('rollout_engine', 'tfjs')})")
        lines.append(f"{'':22}{'ours':>10}{'TRL':>10}{'PyTorch':>10}{'ours/TRL':>10}{'ours/PT':>10}")
        o, t, p = rec["ours"], rec["trl"], rec["torch"]
        for k in PHASES + ["tokens_generated"] + RATES + ["peak_rss_mb", "gflops_achieved", "gflops_peak"]:
            ratio = lambda x, y: f"{x / y:10.2f}" if y else f"{'-':>10}"
            lines.append(f"{k:22}{o[k]:10.3g}{t[k]:10.3g}{p[k]:10.3g}{ratio(o[k], t[k])}{ratio(o[k], p[k])}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--prompt-tokens", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=2, help="per Python side; the last is reported (grpo bench warms up once itself)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--learning-rate", type=float, default=1e-5)
    ap.add_argument("--backend", default="wasm")
    ap.add_argument("--rollout-engine", default="auto", help="ours: auto (as the trainer chooses), llama.cpp or tfjs")
    ap.add_argument("--side", choices=["trl", "torch"])
    ap.add_argument("--out", help="append this setting's record (JSON line) to FILE")
    ap.add_argument("--table", help="print the table of every record in FILE and exit")
    a = ap.parse_args()
    if a.table:
        with open(a.table) as f:
            print(table([json.loads(x) for x in f if x.strip()]))
        return
    if a.side:
        print(json.dumps(run_trl(a) if a.side == "trl" else run_torch(a)), flush=True)
        return
    if not a.model:
        ap.error("--model DIR is required")
    rec = {"setting": {"model": a.model, "prompts": a.prompts, "group": a.group, "prompt_tokens": a.prompt_tokens, "new_tokens": a.new_tokens,
                       "rollout_engine": a.rollout_engine},
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "iterations": a.iterations}
    rec["ours"] = run_ours(a)
    rec["trl"] = run_side(a, "trl")
    rec["torch"] = run_side(a, "torch")
    print(table([rec]), flush=True)
    if a.out:
        with open(a.out, "a") as f:
            f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    sys.exit(main())
