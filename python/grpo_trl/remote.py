"""Rewards over HTTP from `grpo serve-rewards`, for a run exported with `grpo export --target
trl` and started with `accelerate launch` (each process scores its own share of a batch)."""

import json
import time
import urllib.error
import urllib.request

from .rewards import BatchRewards

# What TRL passes to reward functions besides the dataset's own columns.
TRL_KWARGS = {"trainer_state", "log_extra", "log_metric", "environments"}


def prompt_text(prompt):
    """Chat prompts reach the rewards as their messages' text, one message per line."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m.get("content") or "" for m in prompt if isinstance(m, dict))


class RemoteRewards(BatchRewards):
    def __init__(self, url, names, steps_per_iteration, timeout=600, retries=5):
        super().__init__(names, self._post)
        self.steps_per_iteration = steps_per_iteration
        self.url = url.rstrip("/") + "/score"
        self.timeout = timeout
        self.retries = retries

    def _post(self, samples, kwargs, iteration):
        state = kwargs.get("trainer_state")
        if state is not None:  # ctx.iteration: the iterations completed, as in GRPO Studio's runs
            iteration = state.global_step // self.steps_per_iteration
        columns = {k: v for k, v in kwargs.items() if k not in TRL_KWARGS}
        for i, s in enumerate(samples):
            s["prompt"] = prompt_text(s["prompt"])
            s["row"] = {k: v[i] for k, v in columns.items()}
        body = json.dumps({"samples": samples, "iteration": iteration}).encode()
        for attempt in range(self.retries):
            try:
                request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=self.timeout) as r:
                    answer = json.load(r)
                break
            except urllib.error.HTTPError as e:
                raise RuntimeError(f"{self.url} refused the batch: {e.read().decode(errors='replace')}") from e
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt == self.retries - 1:
                    raise RuntimeError(f"no reward server at {self.url}: start it with `grpo serve-rewards --config grpo.config.json --port PORT`")
                time.sleep(2 ** attempt)
        values = {f["name"]: f["values"] for f in answer["functions"]}
        return {name: values.get(name, [None] * len(samples)) for name in self.names}
