"""The predict worker: one thread that runs ``mask_predict`` batches.

The socket loop (server.py) hands it one batch at a time and keeps reading, validating and
answering everything else meanwhile: ``info``, errors, resends and the cheap
``tokenize`` / ``detokenize`` never wait behind a long prediction.  Requests that arrive
during a batch form the next one.  The worker wakes the loop through an inproc PAIR
socket when a batch is done (ZMQ sockets stay in the thread that made them; the results
themselves travel through a deque).
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import threading

import numpy as np
import zmq

from .batching import PendingPredict

log = logging.getLogger("tokcom.service.worker")

_ids = itertools.count()


class PredictWorker:
    def __init__(self, engine, ctx: zmq.Context):
        self.engine = engine
        self._ctx = ctx
        self._addr = f"inproc://tokcom-predict-worker-{next(_ids)}"
        self.wake = ctx.socket(zmq.PAIR)  # the loop polls this; owned by the loop's thread
        self.wake.linger = 0
        self.wake.bind(self._addr)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done: collections.deque = collections.deque()
        self.busy = False
        self._thread = threading.Thread(target=self._run, name="tokcom-predict", daemon=True)
        self._thread.start()

    def submit(self, batch: list[PendingPredict]) -> None:
        assert not self.busy, "one batch at a time"
        self.busy = True
        self._jobs.put(batch)

    def collect(self) -> list[tuple[list[PendingPredict], tuple | None, BaseException | None]]:
        """Finished batches: (batch, (tokens, confidence) or None, exception or None)."""
        while True:
            try:
                self.wake.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
        out = []
        while self._done:
            out.append(self._done.popleft())
            self.busy = False
        return out

    def stop(self, timeout: float = 60.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)
        self.wake.close(linger=0)

    # -- worker thread ------------------------------------------------------------------

    def _run(self) -> None:
        sig = self._ctx.socket(zmq.PAIR)
        sig.linger = 0
        sig.connect(self._addr)
        try:
            while True:
                batch = self._jobs.get()
                if batch is None:
                    return
                try:
                    result, error = self._predict(batch), None
                except Exception as exc:  # reported per request by the loop
                    log.exception("predict batch of %d frames failed",
                                  sum(p.request.frames for p in batch))
                    result, error = None, exc
                self._done.append((batch, result, error))
                sig.send(b"")
        finally:
            sig.close(linger=0)

    def _predict(self, batch: list[PendingPredict]):
        reqs = [p.request for p in batch]
        tokens = np.concatenate([r.arrays["tokens"] for r in reqs])
        mask = np.concatenate([r.arrays["mask"] for r in reqs])
        labels = None
        if any("labels" in r.arrays for r in reqs):
            labels = np.concatenate([
                r.arrays["labels"] if "labels" in r.arrays
                else np.full(r.frames, -1, np.int32) for r in reqs])
        llrs = None
        given = [r.arrays["llrs"] for r in reqs if "llrs" in r.arrays]
        if given:  # protocol v2; a request without LLRs shares the batch with zeros
            shape = given[0].shape[1:]
            llrs = np.concatenate([
                r.arrays["llrs"] if "llrs" in r.arrays
                else np.zeros((r.frames, *shape), np.float32) for r in reqs])
        return self.engine.predict(tokens, mask, labels, **reqs[0].params, llrs=llrs)
