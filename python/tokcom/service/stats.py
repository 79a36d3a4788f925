"""Load statistics of the server, logged at most once per interval and only when busy."""

from __future__ import annotations

import logging
import time
from collections import Counter


class LoadStats:
    def __init__(self, logger: logging.Logger, interval: float = 1.0, clock=time.monotonic):
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._since = clock()
        self._reset()
        # Totals since start (for tests and the shutdown line).
        self.total_requests = 0
        self.total_errors = 0

    def _reset(self) -> None:
        self.ops: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.batches = 0
        self.batch_frames = 0
        self.max_batch = 0

    def request(self, op: str | None) -> None:
        self.ops[op or "?"] += 1
        self.total_requests += 1

    def error(self, code: str) -> None:
        self.errors[code] += 1
        self.total_errors += 1

    def batch(self, frames: int) -> None:
        self.batches += 1
        self.batch_frames += frames
        self.max_batch = max(self.max_batch, frames)

    def maybe_log(self) -> None:
        now = self._clock()
        elapsed = now - self._since
        if elapsed < self._interval:
            return
        if self.ops or self.errors:
            n = sum(self.ops.values())
            per_op = ", ".join(f"{op} {c / elapsed:.1f}" for op, c in sorted(self.ops.items()))
            mean = self.batch_frames / self.batches if self.batches else 0.0
            errs = (", ".join(f"{k} {v}" for k, v in sorted(self.errors.items()))
                    if self.errors else "0")
            self._log.info("load: %.1f req/s (%s); predict batches %d, mean %.1f frames, "
                           "max %d; errors %s", n / elapsed, per_op, self.batches, mean,
                           self.max_batch, errs)
        self._since = now
        self._reset()
