"""What one generation batch was, per completion, for the run folder's rollouts/iter-N.jsonl:
token ids, the per-token log-probabilities of the policy that sampled it (and of the reference),
the advantage and why it ended. The texts and rewards are the trainer's already (it scored them).
"""

import torch
from trl import GRPOTrainer

from .stop_strings import cut_completions


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
    stopped = trainer.studio_stopped
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
                "finish_reason": "stop" if (n > 0 and ids[-1] == eos) or stopped[i] else "length",
                "advantage": _round(output["advantages"][i]),
                "logprobs": [_round(v) for v in old[i, :n].tolist()],
                "ref_logprobs": [_round(v) for v in ref[i, :n].tolist()] if ref is not None else None,
            }
        )
    return samples


class StudioGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer, telling the GRPO Studio trainer about each generation batch."""

    studio_rollouts = None  # set by the engine: a callable(iteration samples)
    studio_rewards = None  # set by the engine: its BridgeRewards
    studio_stops = ()  # the run's stop strings
    studio_stopped = ()  # per completion of the last generation batch: cut at a stop string

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, has_tool_images=False):
        completion_ids, logprobs = super()._generate_single_turn(prompt_ids, images, multimodal_fields, has_tool_images=has_tool_images)
        self.studio_stopped = [False] * len(completion_ids)
        if self.studio_stops:
            decode = lambda ids: self._tokenizer.decode(ids, skip_special_tokens=True)
            self.studio_stopped = cut_completions(completion_ids, logprobs, decode, self.studio_stops)
        return completion_ids, logprobs

    def _generate(self, prompts):
        out = super()._generate(prompts)
        if any(self.studio_stopped):
            self._recount_terminated(out[1])
        return out

    def _recount_terminated(self, completion_ids):
        """TRL counts a completion as finished only at EOS; one a stop string ended is finished
        too: its clipped ratio and terminated lengths are logged again (one process here)."""
        metrics = self._metrics["train" if self.model.training else "eval"]
        ends = (self._tokenizer.eos_token_id, self._tokenizer.pad_token_id)
        finished = [len(ids) for ids, stop in zip(completion_ids, self.studio_stopped) if stop or ids[-1] in ends]
        terminated = finished or [0]  # TRL's value where none finished
        for name, value in (
            ("clipped_ratio", 1 - len(finished) / len(completion_ids)),
            ("mean_terminated_length", sum(terminated) / len(terminated)),
            ("min_terminated_length", min(terminated)),
            ("max_terminated_length", max(terminated)),
        ):
            metrics[f"completions/{name}"][-1] = float(value)

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = self.studio_rewards
        if rewards is not None:
            rewards.prefetch(prompts, completions, completion_ids_list, {"grpo_row": [x["grpo_row"] for x in inputs]})
            for name, weight, function in rewards.take_added():
                # Everything TRL keeps per reward function, grown together (its zip is strict).
                self.reward_funcs.append(function)
                self.reward_func_names.append(name)
                self.reward_processing_classes.append(None)
                self.reward_weights = torch.cat([self.reward_weights, torch.tensor([weight], dtype=self.reward_weights.dtype)])
        return super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        if self.model.training and self.studio_rollouts is not None:
            self.studio_rollouts(rollout_samples(self, inputs, output))
        return output
