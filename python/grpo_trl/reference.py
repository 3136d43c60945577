"""The KL reference where TRL's own handling stops short of what a GRPO Studio run means.

TRL holds a reference model only when beta starts above 0, moves it (sync_ref_model) only for
full fine-tuning, and with PEFT scores the reference with the adapters off, or with a frozen
copy of the adapter named "ref" when the model came with an adapter already. GRPO Studio's
meaning, the same in both engines: the reference is the model the run started from (static),
an EMA of the policy, or a periodic copy of it; raising kl_coef while training creates it then
(the starting model for static, the policy as it is for a moving reference).

So, around TRL:
- a LoRA run that continues an adapter (lora.adapter_path) or has a moving reference scores
  its reference with a "ref" adapter, which TRL then uses itself (use_adapter in TRL); it is
  moved here after each iteration, as TRL's SyncRefModelCallback moves a full model;
- raising beta from 0 builds the reference TRL skipped, and its mover when it moves.
PEFT saves every adapter in a checkpoint (ref/ beside the trained one); on resume the HF
Trainer loads the subfolders only, so the trained adapter at the root is loaded here, and a
resumed LoRA run keeps both. A moving full
reference is saved here (reference/ in the checkpoint) and loaded on resume, where TRL alone
would start it again from the model folder.
"""

import copy
import os

import torch
from transformers import TrainerCallback

REF = "ref"  # TRL's own name for the frozen reference adapter (see use_adapter in TRL)


def load_policy(spec, args):
    """What GRPOTrainer is given as the model: the folder (TRL loads it), or, to continue
    lora.adapter_path, the base with that adapter, trainable (TRL then adds "ref" itself when
    beta > 0, a copy of it: the adapter the run started from)."""
    adapter_path = spec["reference"].get("adapter_path")
    if not adapter_path:
        return spec["model_path"]
    from peft import PeftConfig, PeftModel
    from trl.trainer.utils import create_model_from_path

    base = create_model_from_path(spec["model_path"], **dict(args.model_init_kwargs or {}))
    config = PeftConfig.from_pretrained(adapter_path)
    config.lora_dropout = spec["lora"]["lora_dropout"]  # the run's, as in the tfjs engine
    return PeftModel.from_pretrained(base, adapter_path, is_trainable=True, config=config)


def _is_peft(model):
    return hasattr(model, "peft_config")


def _unwrapped(trainer):
    return trainer.accelerator.unwrap_model(trainer.model)


class StudioReference(TrainerCallback):
    """Builds the reference TRL would not, and moves the ones TRL would not move."""

    def __init__(self, trainer, spec):
        self.trainer = trainer
        ref = spec["reference"]
        self.mode = ref["mode"]  # static | ema | periodic
        self.alpha = 1.0 if self.mode == "periodic" else float(ref["alpha"])
        self.every = int(ref["every_steps"])
        self.adapter_path = ref.get("adapter_path")
        self.model_path = spec["model_path"]
        self.resume_from = spec.get("resume_from")
        self.moving = False  # whether this callback moves a reference (TRL's own mover aside)
        if trainer.beta != 0.0:
            self._build()

    def _build(self):
        """The reference for a run whose beta is now above 0, where TRL holds none of its own."""
        trainer = self.trainer
        model = _unwrapped(trainer)
        if _is_peft(model):
            if REF not in model.peft_config:
                if self.mode == "static" and self.adapter_path:
                    model.load_adapter(self.adapter_path, REF, is_trainable=False)
                elif self.mode != "static":
                    self._copy_adapter(model)
                # A fresh adapter's static reference is the base: adapters off, as TRL does.
            self.moving = self.mode != "static"
            return
        if trainer.ref_model is None:
            from trl.trainer.utils import create_model_from_path, disable_dropout_in_model

            if self.mode == "static":
                ref = create_model_from_path(self.model_path, **dict(trainer.args.model_init_kwargs or {}))
            else:
                ref = copy.deepcopy(model)
            ref.requires_grad_(False)
            if trainer.args.disable_dropout:
                disable_dropout_in_model(ref)
            trainer.ref_model = trainer.accelerator.prepare_model(ref, evaluation_mode=True)
            self.moving = self.mode != "static"
        # Otherwise TRL built it at start, and its SyncRefModelCallback moves it (sync_ref_model).

    @staticmethod
    def _copy_adapter(model):
        model.add_adapter(REF, model.peft_config["default"])
        for name, param in model.named_parameters():
            if ".default." in name:
                ref = model.get_parameter(name.replace(".default.", ".ref."))
                ref.data.copy_(param.data)
                ref.requires_grad_(False)  # frozen: the optimizer must never see it

    def beta_changed(self, before, after):
        """Live kl_coef: the reference exists from the first iteration it is used in."""
        if before == 0.0 and after != 0.0:
            self._build()

    def on_step_end(self, args, state, control, **kwargs):
        if not self.moving or state.global_step % self.every != 0:
            return
        model = _unwrapped(self.trainer)
        if _is_peft(model):
            pairs = [
                (model.get_parameter(n.replace(".default.", ".ref.")), p) for n, p in model.named_parameters() if ".default." in n
            ]
        else:
            pairs = list(zip(_unwrapped_ref(self.trainer).parameters(), model.parameters()))
        with torch.no_grad():
            for ref, policy in pairs:
                ref.data.mul_(1.0 - self.alpha).add_(policy.data, alpha=self.alpha)

    def _full_reference_moves(self):
        return self.mode != "static" and self.trainer.ref_model is not None and not _is_peft(_unwrapped(self.trainer))

    def save(self, checkpoint):
        """A moving full reference goes into the checkpoint; adapters are PEFT's to save."""
        if self._full_reference_moves():
            _unwrapped_ref(self.trainer).save_pretrained(os.path.join(checkpoint, "reference"), safe_serialization=True)

    def on_train_begin(self, args, state, control, **kwargs):
        if not self.resume_from:
            return
        from safetensors.torch import load_file

        model = _unwrapped(self.trainer)
        if _is_peft(model) and REF in model.peft_config:
            # The HF Trainer, finding adapter subfolders (ref/) in a checkpoint, loads those
            # alone: the trained adapter, at the checkpoint's root, is loaded here.
            from peft import set_peft_model_state_dict

            trained = load_file(os.path.join(self.resume_from, "adapter_model.safetensors"))
            result = set_peft_model_state_dict(model, trained, adapter_name="default")
            if result.unexpected_keys:
                raise RuntimeError(f"{self.resume_from}: adapter tensors this model lacks: {result.unexpected_keys[:3]}")
        saved = os.path.join(self.resume_from, "reference", "model.safetensors")
        if os.path.isfile(saved) and self._full_reference_moves():
            _unwrapped_ref(self.trainer).load_state_dict(load_file(saved), strict=False)


def _unwrapped_ref(trainer):
    return trainer.accelerator.unwrap_model(trainer.ref_model)
