"""A GRPO Studio run for TRL at scale, written by `grpo export --target trl`.

    grpo serve-rewards --config grpo.config.json --port 8765     # on the machine with the reward files
    accelerate launch --config_file accelerate.yaml train_grpo.py [--rewards-url URL] [--max-steps N]

The settings are GRPO Studio's config mapped to GRPOConfig (grpo_config.json, edit it there);
the rewards are the workspace's TypeScript rewards, asked over HTTP; the dataset keeps every
column, which the rewards receive as the sample's row.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the grpo_trl package copied beside this script


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rewards-url", default=os.environ.get("GRPO_REWARDS_URL", "http://127.0.0.1:8765"))
    parser.add_argument("--max-steps", type=int, default=None, help="over grpo_config.json's max_steps")
    parser.add_argument("--output-dir", default=None, help="over grpo_config.json's output_dir")
    options = parser.parse_args()

    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from grpo_trl.reference import StudioReference, load_policy
    from grpo_trl.remote import RemoteRewards

    with open(os.path.join(HERE, "grpo_config.json"), encoding="utf-8") as f:
        settings = json.load(f)
    trl_args = dict(settings["trl"])
    if options.max_steps is not None:
        trl_args["max_steps"] = options.max_steps
    trl_args["output_dir"] = options.output_dir or os.path.join(HERE, trl_args["output_dir"])
    import torch

    if not torch.cuda.is_available():  # GRPOConfig would default to bf16 on a GPU it does not have
        trl_args.setdefault("use_cpu", True)
        trl_args.setdefault("bf16", False)
    args = GRPOConfig(**trl_args)

    import transformers

    model_path = os.path.join(HERE, settings["model"])
    reference = dict(settings["reference"])
    if reference.get("adapter_path"):
        reference["adapter_path"] = os.path.join(HERE, reference["adapter_path"])
    spec = {"model_path": model_path, "lora": settings.get("lora"), "reference": reference, "resume_from": None}
    transformers.set_seed(args.seed)  # before fresh LoRA adapters are drawn
    model = load_policy(spec, args)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    with open(os.path.join(HERE, settings["dataset"]), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    peft_config = None
    if settings.get("lora") and isinstance(model, str):
        from peft import LoraConfig

        peft_config = LoraConfig(task_type="CAUSAL_LM", **settings["lora"])
    rewards = RemoteRewards(options.rewards_url, settings["reward_functions"], settings["steps_per_iteration"])
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=rewards.functions(),
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    # The reference as the run means it, where TRL alone would not hold or move it (LoRA).
    trainer.add_callback(StudioReference(trainer, spec))
    trainer.train()
    trainer.save_model(os.path.join(args.output_dir, "final"))


if __name__ == "__main__":
    main()
