"""Stop strings for TRL, which has none: a completion ends with the token whose text completes
the first stop string, as in GRPO Studio's own engine. Its tokens are kept (and trained on, as
an EOS token is); the text the rewards see ends before it (the trainer process cuts it).

TRL samples every row to EOS or max_completion_length; each completion is cut here after
sampling. The tokens before the cut are the ones a stopped sampler would have drawn: torch
draws every row of the batch at each step whether or not it has finished.
"""


def stop_cut(ids, decode, stops):
    """How many of `ids` to keep: through the first token whose decoded prefix holds a stop
    string; None when none occurs. A prefix's text only grows, so the first such token is
    found by bisection."""
    holds = lambda k: any(s in decode(ids[:k]) for s in stops)
    if not stops or not ids or not holds(len(ids)):
        return None
    low, high = 1, len(ids)  # holds(high) is true
    while low < high:
        mid = (low + high) // 2
        if holds(mid):
            high = mid
        else:
            low = mid + 1
    return low


def cut_completions(completion_ids, logprobs, decode, stops):
    """Cuts each completion (and its sampling log-probabilities) at its stop string, in place;
    returns which were cut."""
    stopped = [False] * len(completion_ids)
    for i, ids in enumerate(completion_ids):
        k = stop_cut(ids, decode, stops)
        if k is None:
            continue
        completion_ids[i] = ids[:k]
        if logprobs is not None:
            logprobs[i] = logprobs[i][:k]
        stopped[i] = True
    return stopped
