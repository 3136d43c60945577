"""TRL reward functions that ask the trainer process, where the TypeScript rewards run.

TRL calls its reward functions one after the other with the same batch; the first call asks
the trainer to score the batch with every reward function at once (one round trip, and the
trainer's reward workers score in parallel), the others read that answer.
"""


def completion_text(completion):
    """TRL hands conversational completions as messages; the rewards read text."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content") or "" for m in completion if isinstance(m, dict))


class BridgeRewards:
    def __init__(self, bridge, names):
        self.bridge = bridge
        self.names = list(names)
        self._batch = None  # (id of the completions list, answer)
        self.last_score_id = None
        self.iteration = 0  # what reward functions see as ctx.iteration

    def functions(self):
        return [self._function(name) for name in self.names]

    def _function(self, name):
        def reward(prompts, completions, completion_ids, grpo_row, **kwargs):
            return self._scores(completions, completion_ids, grpo_row)[name]

        reward.__name__ = name
        return reward

    def _scores(self, completions, completion_ids, rows):
        if self._batch is None or self._batch[0] is not completions:
            reply = self.bridge.ask(
                {
                    "type": "score",
                    "purpose": "train",
                    "iteration": self.iteration,
                    "samples": [
                        {"row": int(r), "completion": completion_text(c), "completion_ids": [int(t) for t in ids]}
                        for r, c, ids in zip(rows, completions, completion_ids)
                    ],
                },
                "scores",
            )
            self.last_score_id = reply["id"]
            self._batch = (completions, reply["functions"])
        return self._batch[1]
