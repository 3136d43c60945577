"""Held-out evaluation as GRPO Studio's own engine does it: one greedy completion per prompt,
scored by the TypeScript rewards in the trainer process (which writes evaluations.jsonl)."""

import time

import torch

from .rewards import completion_text
from .stop_strings import stop_cut


def evaluate(trainer, bridge, rows, iteration, max_new_tokens, batch_size):
    started = time.perf_counter()
    model = trainer.accelerator.unwrap_model(trainer.model)
    tokenizer = trainer._tokenizer
    was_training = model.training
    model.eval()
    samples = []
    decode = lambda ids: tokenizer.decode(ids, skip_special_tokens=True)
    try:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            texts = [
                tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
                if isinstance(r["prompt"], list) else r["prompt"]
                for r in chunk
            ]
            enc = tokenizer(texts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False).to(model.device)
            with torch.no_grad():
                out = model.generate(
                    **enc, max_new_tokens=max_new_tokens, do_sample=False,
                    eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                )
            for r, ids in zip(chunk, out[:, enc["input_ids"].shape[1]:].tolist()):
                if tokenizer.eos_token_id in ids:
                    ids = ids[:ids.index(tokenizer.eos_token_id) + 1]
                ids = ids[:stop_cut(ids, decode, trainer.studio_stops) or len(ids)]
                text = decode(ids)
                samples.append({"row": int(r["grpo_row"]), "completion": completion_text(text), "completion_ids": ids})
    finally:
        if was_training:
            model.train()
    bridge.ask(
        {"type": "score", "purpose": "eval", "iteration": iteration, "samples": samples,
         "seconds": time.perf_counter() - started},
        "scores",
    )
