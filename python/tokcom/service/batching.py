"""Micro-batching of ``predict`` requests: which requests may share one mask_predict call,
and how long to wait for more of them.

Requests are compatible when one call gives each of them exactly what it would get alone:

* arg-max decoding (temperature 0): same ``steps`` and ``schedule``; labels are per row,
  and the seed is unused.
* sampling (temperature > 0): never merged, because mask_predict draws from one generator
  for the whole batch - a request's samples would depend on its neighbours, breaking
  "same inputs + seed give the same output".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .validation import Request

# A client counts as active for the batch window if it sent a predict this recently.
ACTIVE_SECONDS = 1.0


@dataclass
class PendingPredict:
    envelope: list  # ZMQ routing frames (identity ... empty delimiter)
    request: Request
    arrived: float = field(default_factory=time.monotonic)
    key: bytes = b""  # identifies resends of the same request (replies.request_key)
    nbytes: int = 0  # request size, counted against the peer's queue limit

    @property
    def identity(self) -> bytes:
        return bytes(self.envelope[0])


def batch_key(req: Request) -> tuple:
    p = req.params
    if p["temperature"] > 0:
        return ("alone", req.request_id, id(req))
    return ("argmax", p["steps"], p["schedule"], p.get("llr_weight"), p.get("candidates", 0))


def plan_batches(pending: list[PendingPredict], max_batch: int) -> list[list[PendingPredict]]:
    """Group compatible requests (arrival order kept) into runs of <= max_batch frames.

    A request is never split; one larger than ``max_batch`` runs alone.
    """
    groups: dict[tuple, list[PendingPredict]] = {}
    for p in pending:
        groups.setdefault(batch_key(p.request), []).append(p)
    batches: list[list[PendingPredict]] = []
    for members in groups.values():
        current: list[PendingPredict] = []
        frames = 0
        for p in members:
            n = p.request.frames
            if current and frames + n > max_batch:
                batches.append(current)
                current, frames = [], 0
            current.append(p)
            frames += n
        if current:
            batches.append(current)
    return batches


class BatchWindow:
    """Decides whether to hold pending predicts a little longer for other clients.

    Waiting costs latency, so it only pays when other clients are likely to send within
    the window: the server waits (at most ``window`` seconds after the first pending
    request) only while fewer distinct clients are pending than were active recently.  A
    lone client is therefore never delayed.
    """

    def __init__(self, window: float, max_batch: int, clock=time.monotonic):
        self.window = window
        self.max_batch = max_batch
        self._clock = clock
        self._last_seen: dict[bytes, float] = {}

    def seen(self, identity: bytes) -> None:
        self._last_seen[identity] = self._clock()

    def _active(self, now: float) -> int:
        stale = [k for k, t in self._last_seen.items() if now - t > ACTIVE_SECONDS]
        for k in stale:
            del self._last_seen[k]
        return len(self._last_seen)

    def wait_seconds(self, pending: list[PendingPredict]) -> float:
        """0 = run now; otherwise how long to keep listening before running."""
        if not pending or self.window <= 0 or self.max_batch <= 1:
            return 0.0
        if sum(p.request.frames for p in pending) >= self.max_batch:
            return 0.0
        now = self._clock()
        left = pending[0].arrived + self.window - now
        if left <= 0:
            return 0.0
        if len({p.identity for p in pending}) >= self._active(now):
            return 0.0
        return left
