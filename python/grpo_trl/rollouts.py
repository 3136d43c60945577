"""What one generation batch was, per completion, for the run folder's rollouts/iter-N.jsonl:
token ids, the per-token log-probabilities of the policy that sampled it (and of the reference),
the advantage and why it ended. The texts and rewards are the trainer's already (it scored them).
"""

import torch
from trl import GRPOTrainer


def _round(x):
    return round(float(x), 5)


def rollout_samples(trainer, inputs, output):
    completion_ids = output["completion_ids"]
    mask = output["completion_mask"]
    old = output.get("old_per_token_logps")
    if old is None:
        # TRL skips these when every optimizer step is on-policy (the ratio is 1 by definition);
        # the rollout browser shows them, so they are computed once here, as TRL would.
        prompt_completion = torch.cat([output["prompt_ids"], completion_ids], dim=1)
        attention = torch.cat([output["prompt_mask"], mask], dim=1)
        with torch.no_grad():
            old, _, _ = trainer._get_per_token_logps_and_entropies(
                trainer.model, prompt_completion, attention, completion_ids.size(1), trainer.args.per_device_train_batch_size
            )
    ref = output.get("ref_per_token_logps")
    eos = trainer._tokenizer.eos_token_id  # what TRL itself counts as a finished completion
    group = trainer.num_generations
    samples = []
    for i, x in enumerate(inputs):
        n = int(mask[i].sum().item())
        ids = [int(t) for t in completion_ids[i, :n].tolist()]
        samples.append(
            {
                "row": int(x["grpo_row"]),
                "group": i // group,
                "member": i % group,
                "completion_ids": ids,
                "finish_reason": "stop" if n > 0 and ids[-1] == eos else "length",
                "advantage": _round(output["advantages"][i]),
                "logprobs": [_round(v) for v in old[i, :n].tolist()],
                "ref_logprobs": [_round(v) for v in ref[i, :n].tolist()] if ref is not None else None,
            }
        )
    return samples


class StudioGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer, telling the GRPO Studio trainer about each generation batch."""

    studio_rollouts = None  # set by the engine: a callable(iteration samples)

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        if self.model.training and self.studio_rollouts is not None:
            self.studio_rollouts(rollout_samples(self, inputs, output))
        return output
