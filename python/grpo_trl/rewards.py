"""TRL reward functions whose values come from GRPO Studio's TypeScript rewards.

TRL calls its reward functions one after the other with the same batch; the first call asks
for the batch to be scored by every reward function at once (one round trip, and the reward
workers score in parallel), the others read that answer. Where the answer comes from is the
`score` callable: the trainer process over the pipe (engine "trl"), or `grpo serve-rewards`
over HTTP (an exported run, remote.py).
"""


def completion_text(completion):
    """TRL hands conversational completions as messages; the rewards read text."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content") or "" for m in completion if isinstance(m, dict))


class BatchRewards:
    def __init__(self, names, score):
        """`score(samples, iteration)` returns {function name: [value or None per sample]};
        a sample is {"completion", "completion_ids", "row", "prompt"} (row: an index or the columns)."""
        self.names = list(names)
        self._score = score
        self._batch = None  # (the completions list TRL passed, the answer for it)
        self.iteration = 0  # what reward functions see as ctx.iteration

    def functions(self):
        return [self._function(name) for name in self.names]

    def prefetch(self, prompts, completions, completion_ids, kwargs):
        """Scores the batch now, before TRL sizes its table of rewards by its function list."""
        self._scores(prompts, completions, completion_ids, kwargs)

    def _function(self, name):
        def reward(prompts, completions, completion_ids, **kwargs):
            return self._scores(prompts, completions, completion_ids, kwargs)[name]

        reward.__name__ = name
        return reward

    def _scores(self, prompts, completions, completion_ids, kwargs):
        if self._batch is None or self._batch[0] is not completions:
            samples = [
                {"prompt": p, "completion": completion_text(c), "completion_ids": [int(t) for t in ids]}
                for p, c, ids in zip(prompts, completions, completion_ids)
            ]
            self._batch = (completions, self._score(samples, kwargs, self.iteration))
        return self._batch[1]


class BridgeRewards(BatchRewards):
    """Scored by the trainer process that started this one; it knows each row by its index."""

    def __init__(self, bridge, names):
        super().__init__(names, self._ask)
        self.bridge = bridge
        self.last_score_id = None
        self._added = {}

    def take_added(self):
        """Functions the last answer brought that TRL's list lacks: [(name, weight, function)]."""
        # The trainer process reloads reward files at each generation batch; a function a
        # reload added comes with its weight and counts from this batch on, as in GRPO
        # Studio's own engine.
        added = [(name, float(weight), self._function(name)) for name, weight in self._added.items() if name not in self.names]
        self.names.extend(name for name, _, _ in added)
        self._added = {}
        return added

    def _ask(self, samples, kwargs, iteration):
        for s, row in zip(samples, kwargs["grpo_row"]):
            del s["prompt"]  # the trainer renders it from the row, as it does for its own engine
            s["row"] = int(row)
        reply = self.bridge.ask({"type": "score", "purpose": "train", "iteration": iteration, "samples": samples}, "scores")
        self.last_score_id = reply["id"]
        self._added = reply.get("added") or {}
        return reply["functions"]
