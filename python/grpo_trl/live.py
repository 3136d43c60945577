"""Settings changed while training (from the dashboard), applied to TRL's trainer at an
iteration boundary, as GRPO Studio's own engine applies them."""


def apply_live(trainer, live, reward_names, reference=None):
    if "learningRate" in live:
        lr = float(live["learningRate"])
        # A live learning rate replaces the schedule from here on, as in GRPO Studio's engine.
        scheduler = trainer.lr_scheduler
        if hasattr(scheduler, "lr_lambdas"):
            scheduler.lr_lambdas = [lambda _step: 1.0 for _ in scheduler.lr_lambdas]
            scheduler.base_lrs = [lr for _ in scheduler.base_lrs]
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr
    if "temperature" in live:
        t = float(live["temperature"])
        trainer.temperature = t
        if getattr(trainer, "generation_config", None) is not None:
            trainer.generation_config.temperature = t
    if "klCoef" in live:
        before, trainer.beta = trainer.beta, float(live["klCoef"])
        if reference is not None:
            # TRL holds a reference only when beta started above 0: it is built on first use.
            reference.beta_changed(before, trainer.beta)
    for name, weight in (live.get("rewardWeights") or {}).items():
        if name in reward_names:
            trainer.reward_weights[reward_names.index(name)] = float(weight)
