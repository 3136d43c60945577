"""GRPO Studio's TRL engine: TRL's GRPOTrainer on this machine's torch device, with the
TypeScript rewards, metrics, rollouts and controls of the GRPO Studio trainer process that
started it.

    python -m grpo_trl SPEC.json

SPEC.json is written by the trainer process (src/trl/): GRPOConfig's fields already mapped
from grpo.config.json, the LoRA settings, the prompts, and the run folder. Everything the run
keeps is written by the trainer process from this process's messages (bridge.py), except the
checkpoints, which are TRL's own (HF model folders with trainer_state.json).
"""

import json
import os
import sys
import warnings

from .bridge import Bridge, TrainerGone


def device_settings(torch):
    """CUDA when torch sees a GPU (bf16 where it has it; vLLM sampling in the same process
    where vLLM is installed, as TRL's colocate mode does), else Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        from importlib.util import find_spec

        vllm = {"use_vllm": True, "vllm_mode": "colocate"} if find_spec("vllm") is not None else {}
        return "cuda", {"bf16": bool(torch.cuda.is_bf16_supported()), **vllm}
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps", {}
    return "cpu", {"use_cpu": True, "bf16": False}


def main(spec_file):
    bridge = Bridge()
    warnings.filterwarnings("ignore")
    with open(spec_file, encoding="utf-8") as f:
        spec = json.load(f)
    import torch
    import transformers
    import trl
    from datasets import Dataset
    from transformers import AutoTokenizer

    from .boundaries import IterationBoundaries
    from .reference import StudioReference, load_policy
    from .rewards import BridgeRewards
    from .rollouts import StudioGRPOTrainer

    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    device, device_args = device_settings(torch)
    args = trl.GRPOConfig(**spec["trl"], **device_args)
    tokenizer = AutoTokenizer.from_pretrained(spec["model_path"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Seeded before anything draws: TRL makes fresh LoRA adapters before the HF Trainer seeds,
    # which left their initial values (and so the whole run) different in every process.
    transformers.set_seed(args.seed)
    model = load_policy(spec, args)
    peft_config = None
    if spec.get("lora") and isinstance(model, str):
        from peft import LoraConfig

        peft_config = LoraConfig(task_type="CAUSAL_LM", **spec["lora"])
    rewards = BridgeRewards(bridge, spec["reward_functions"])
    dataset = Dataset.from_list(spec["train_rows"])
    trainer = StudioGRPOTrainer(
        model=model,
        reward_funcs=rewards.functions(),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    # metrics.jsonl has every logged value; printed dicts would only fill log.txt.
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
    boundaries = IterationBoundaries(bridge, rewards, spec)
    boundaries.trainer = trainer
    trainer.add_callback(boundaries)
    # After the boundaries: a resumed run's live kl_coef builds the reference before a saved
    # moving reference is loaded into it.
    boundaries.reference = StudioReference(trainer, spec)
    trainer.add_callback(boundaries.reference)
    trainer.studio_rewards = rewards
    trainer.studio_stops = tuple(spec.get("stop") or ())
    trainer.studio_rollouts = lambda samples: bridge.send(
        {"type": "rollout", "score_id": rewards.last_score_id, "samples": samples}
    )
    parameters = sum(p.numel() for p in trainer.model.parameters())
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    bridge.send(
        {
            "type": "ready",
            "device": device,
            "dtype": ("bf16" if device_args.get("bf16") else "fp32") + (", vLLM sampling" if device_args.get("use_vllm") else ""),
            "threads": torch.get_num_threads(),
            "parameters": parameters,
            "trainable": trainable,
            "versions": {"trl": trl.__version__, "transformers": transformers.__version__, "torch": torch.__version__},
        }
    )
    trainer.train(resume_from_checkpoint=spec.get("resume_from"))
    bridge.send({"type": "done", "iteration": boundaries.iteration(trainer.state), "stopped": boundaries.stopped})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m grpo_trl SPEC.json (started by the GRPO Studio trainer)\n")
        sys.exit(2)
    try:
        main(sys.argv[1])
    except TrainerGone:
        sys.exit(3)
