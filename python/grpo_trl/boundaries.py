"""Iteration boundaries: where the trainer process sees each iteration's metrics and decides
what happens next (continue, pause by not answering yet, save, stop, live settings).

One GRPO Studio iteration is one generation batch and its updates: steps_per_generation x
num_iterations (TRL's) optimizer steps. logging_steps is set to that, so TRL logs once per
iteration, with each metric averaged over the iteration's steps.
"""

import os
import time

from transformers import TrainerCallback

from .evaluation import evaluate
from .live import apply_live


class IterationBoundaries(TrainerCallback):
    def __init__(self, bridge, rewards, spec):
        self.bridge = bridge
        self.rewards = rewards
        self.steps_per_iteration = spec["steps_per_iteration"]
        self.num_iterations = spec["num_iterations"]
        self.eval_rows = spec.get("eval_rows")
        self.eval_every = spec.get("eval_every", 0)
        self.max_new_tokens = spec["trl"]["max_completion_length"]
        self.eval_batch = spec["eval_batch_size"]
        self.resumed_live = spec.get("live") or {}
        self.trainer = None  # set once the trainer exists
        self.reference = None  # the StudioReference, set with it
        self.iteration_started = time.perf_counter()
        self.stopped = False

    def iteration(self, state):
        return state.global_step // self.steps_per_iteration

    def evaluate(self, iteration):
        if self.eval_rows:
            evaluate(self.trainer, self.bridge, self.eval_rows, iteration, self.max_new_tokens, self.eval_batch)

    def on_train_begin(self, args, state, control, **kwargs):
        iteration = self.iteration(state)
        self.rewards.iteration = iteration
        if iteration == 0:
            self.evaluate(0)
        # After the HF Trainer restored the optimizer and scheduler: a resumed run's live settings win.
        apply_live(self.trainer, self.resumed_live, self.rewards.names, self.reference)
        self.iteration_started = time.perf_counter()

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step % self.steps_per_iteration == 0:
            self.bridge.send({"type": "iteration-started", "iteration": self.iteration(state) + 1})

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is None or "loss" not in logs or state.global_step % self.steps_per_iteration != 0:
            return
        iteration = self.iteration(state)
        self.bridge.send(
            {
                "type": "metrics",
                "iteration": iteration,
                "step": state.global_step,
                "logs": logs,
                "seconds": time.perf_counter() - self.iteration_started,
            }
        )
        if self.eval_every and iteration % self.eval_every == 0 and iteration < self.num_iterations:
            self.evaluate(iteration)
        self.boundary(iteration, control)
        self.rewards.iteration = iteration
        self.iteration_started = time.perf_counter()

    def boundary(self, iteration, control):
        """Waits for the trainer's word; a paused run waits here, saving when asked."""
        self.bridge.send({"type": "boundary", "iteration": iteration})
        while True:
            reply = self.bridge.read()
            kind = reply.get("type")
            if kind == "save":
                self.save(iteration)
            elif kind == "continue":
                apply_live(self.trainer, reply.get("live") or {}, self.rewards.names, self.reference)
                if reply.get("save"):
                    self.save(iteration)
                if reply.get("stop"):
                    self.stopped = True
                    control.should_training_stop = True
                return
            else:
                raise RuntimeError(f"protocol: unexpected {kind!r} at an iteration boundary")

    def save(self, iteration):
        trainer = self.trainer
        trainer._save_checkpoint(trainer.model, None)
        path = os.path.join(trainer.args.output_dir, f"checkpoint-{trainer.state.global_step}")
        if self.reference is not None:
            self.reference.save(path)
        self.bridge.send({"type": "checkpoint", "iteration": iteration, "path": path})

    def on_train_end(self, args, state, control, **kwargs):
        if not self.stopped and self.iteration(state) >= self.num_iterations:
            self.evaluate(self.iteration(state))
