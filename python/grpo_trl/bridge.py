"""The line protocol with the GRPO Studio trainer process that started this one.

One JSON object per line: this process writes requests and events to the stdout it was
started with, and reads the trainer's replies from stdin. Everything else that prints
(transformers, torch, tqdm, C libraries) is sent to stderr, which the trainer copies into the
run's log.txt, so nothing but protocol lines ever reaches the protocol pipe.
"""

import json
import math
import os
import sys
import threading
import time


class TrainerGone(SystemExit):
    """The trainer process closed the pipe: it was stopped or killed, so this process ends."""


def _finite(value):
    """NaN and infinities as null: the trainer reads strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class Bridge:
    def __init__(self):
        protocol_fd = os.dup(1)
        os.dup2(2, 1)  # C-level prints to fd 1 now land in stderr as well
        sys.stdout = sys.stderr
        self._out = os.fdopen(protocol_fd, "w", buffering=1, encoding="utf-8")
        self._in = sys.stdin
        _end_with_parent()

    def send(self, message):
        self._out.write(json.dumps(_finite(message), separators=(",", ":")) + "\n")
        self._out.flush()

    def read(self):
        line = self._in.readline()
        if not line:
            raise TrainerGone(3)
        return json.loads(line)

    def ask(self, message, expect):
        """Sends a request and returns the reply of type `expect`."""
        self.send(message)
        reply = self.read()
        if reply.get("type") != expect:
            raise RuntimeError(f"protocol: expected a {expect!r} reply, got {reply.get('type')!r}")
        return reply


def _end_with_parent():
    """A trainer killed outright cannot close the pipe in time to matter while this process
    generates or updates for minutes; it ends as soon as its parent is gone."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(2)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()
