"""Idempotent request ids: a resent ``predict`` is never computed twice.

A client that times out resends the request with its original id, often over a new
connection (docs/protocol.md, "Reliability for clients").  The server recognises the
resend by the request id *and* the bytes of the request (header and payloads), so two
clients that happen to pick the same id for different requests are not confused:

* while the first copy waits or runs, the resend joins it and gets the same reply;
* after the reply, a small cache (bounded in entries and bytes) answers it again.

Torch-free.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict


def request_key(request_id: str, body) -> bytes:
    """Digest of the id and every frame after the envelope (length-prefixed)."""
    h = hashlib.blake2b(request_id.encode(), digest_size=16)
    for frame in body:
        h.update(len(frame).to_bytes(8, "little"))
        h.update(frame)
    return h.digest()


class ReplyBook:
    """Requests in progress (key -> envelopes waiting) and recent replies (key -> frames)."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 8 * 1024 * 1024):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._waiting: dict[bytes, list[list]] = {}
        self._cache: OrderedDict[bytes, list[bytes]] = OrderedDict()
        self._cache_bytes = 0
        self.joined = 0  # resends that joined a waiting or running copy
        self.cached = 0  # resends answered from the cache

    def cached_reply(self, key: bytes) -> list[bytes] | None:
        frames = self._cache.get(key)
        if frames is not None:
            self._cache.move_to_end(key)
            self.cached += 1
        return frames

    def join(self, key: bytes, envelope: list) -> bool:
        """True if an identical request is already in progress (``envelope`` now waits too)."""
        waiters = self._waiting.get(key)
        if waiters is None:
            return False
        waiters.append(envelope)
        self.joined += 1
        return True

    def start(self, key: bytes, envelope: list) -> None:
        self._waiting[key] = [envelope]

    def finish(self, key: bytes, frames: list | None) -> list[list]:
        """The envelopes to answer; ``frames`` (an ok reply) is cached, None is not."""
        envelopes = self._waiting.pop(key, [])
        if frames is not None:
            self._put(key, [bytes(f) for f in frames])
        return envelopes

    def _put(self, key: bytes, frames: list[bytes]) -> None:
        size = sum(len(f) for f in frames)
        if size > self.max_bytes:
            return
        old = self._cache.pop(key, None)
        if old is not None:
            self._cache_bytes -= sum(len(f) for f in old)
        self._cache[key] = frames
        self._cache_bytes += size
        while len(self._cache) > self.max_entries or self._cache_bytes > self.max_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cache_bytes -= sum(len(f) for f in dropped)
