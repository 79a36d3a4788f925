"""Client of the TokCom model service: blocking calls and futures over one DEALER socket.

Imports only numpy, pyzmq and the standard library (plus the torch-free protocol modules),
so GNU Radio blocks can use it::

    with ServiceClient("tcp://127.0.0.1:5555") as c:
        spec = c.info()
        out = c.predict(tokens, mask, labels=3)          # blocking
        fut = c.submit_predict(tokens, mask)              # concurrent.futures.Future
        out = fut.result()

A background I/O thread owns the socket (ZMQ sockets are not thread-safe); every public
method may be called from any thread.  Reliability follows the Lazy Pirate pattern: when
a request gets no reply within ``timeout`` seconds, the socket is closed and reopened
(a request or reply may be stuck in a dead connection) and every outstanding request is
sent again with its original id.  A reply is accepted only while its id is outstanding,
so each future is resolved exactly once; late duplicates are counted in ``discarded``.
After ``retries`` resends a request fails with :class:`ServiceTimeout`.

``timeout`` must exceed the server's compute time for the largest request (plus queueing
behind other clients): a request that times out is computed again, not cancelled.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import operator
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import zmq

from .errors import ClientClosed, ProtocolError, ServiceBusy, ServiceError, ServiceTimeout
from .protocol import (
    OP_DETOKENIZE,
    OP_INFO,
    OP_PREDICT,
    OP_TOKENIZE,
    STATUS_ERROR,
    STATUS_OK,
    decode_arrays,
    decode_header,
    parse_array_descs,
    request_frames,
)
from .security import CurveClientKeys

log = logging.getLogger("tokcom.service.client")

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"
BAD_REPLY = "BAD_REPLY"  # client-side code: the server's reply broke the protocol
MAX_POLL_MS = 1000


class PredictResult(NamedTuple):
    tokens: np.ndarray  # uint16, received positions unchanged
    confidence: np.ndarray  # float32, 1.0 at received positions
    batch_frames: int = 1  # frames in the server batch this request ran in (diagnostics)
    server_ms: float = 0.0  # time the request spent in the server, receipt to reply
    candidates: np.ndarray | None = None  # v2: uint16 (B, h*w, k) best tokens per position
    candidate_logp: np.ndarray | None = None  # v2: their float32 log-probabilities


@dataclass
class _Call:
    request_id: str
    op: str
    frames: list  # [b"" delimiter, header, payloads...], kept for resends
    future: Future
    decode: Callable[[dict, dict], Any]
    timeout: float
    retries_left: int
    deadline: float = 0.0
    attempts: int = 0


def _resolve(fut: Future, result=None, exc: BaseException | None = None) -> None:
    if fut.done():  # cancelled by the caller
        return
    try:
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
    except InvalidStateError:  # cancelled between the check and the set
        pass


# -- input preparation (copies, so callers may reuse their buffers at once) -------------

def _tokens_array(tokens) -> tuple[np.ndarray, bool]:
    a = np.asarray(tokens)
    single = a.ndim == 2
    if single:
        a = a[None]
    if a.ndim != 3 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"tokens must be an integer (h, w) or (B, h, w) array, got "
                         f"{a.dtype} {a.shape}")
    if a.size and (int(a.min()) < 0 or int(a.max()) > 0xFFFF):
        raise ValueError("token values must fit uint16")
    return np.array(a, dtype="<u2", order="C"), single


def _mask_array(mask, shape: tuple) -> np.ndarray:
    a = np.asarray(mask)
    if a.ndim == 2:
        a = a[None]
    if a.shape != shape:
        raise ValueError(f"mask shape {a.shape} != tokens shape {shape}")
    if a.dtype != np.bool_:
        if not np.issubdtype(a.dtype, np.integer) or (a.size and not np.isin(a, (0, 1)).all()):
            raise ValueError("mask must be bool or hold only 0/1")
    return np.array(a, dtype=np.uint8, order="C")


def _labels_array(labels, batch: int) -> np.ndarray | None:
    if labels is None:
        return None
    a = np.asarray(labels)
    if a.ndim == 0:
        a = np.full(batch, int(a))
    if a.shape != (batch,) or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"labels must be an int or {batch} ints, got {a.dtype} {a.shape}")
    return np.array(a, dtype="<i4")


def _images_array(images) -> tuple[np.ndarray, bool]:
    a = np.asarray(images)
    single = a.ndim == 2
    if single:
        a = a[None]
    if a.ndim not in (3, 4) or a.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (H, W), (B, H, W) or (B, H, W, C), got "
                         f"{a.dtype} {a.shape}")
    return np.array(a, dtype=np.uint8, order="C"), single


def _take(arrays: dict, name: str) -> np.ndarray:
    if name not in arrays:
        raise ServiceError(BAD_REPLY, f"reply lacks array {name!r}")
    return arrays[name].copy()  # writable, independent of the ZMQ frame


class ServiceClient:
    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, *, timeout: float = 10.0,
                 retries: int = 3, max_outstanding: int = 32,
                 curve: CurveClientKeys | None = None, context: zmq.Context | None = None):
        if timeout <= 0 or retries < 0 or max_outstanding < 1:
            raise ValueError("need timeout > 0, retries >= 0, max_outstanding >= 1")
        self.endpoint = endpoint
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.curve = curve
        self._own_ctx = context is None
        self._ctx = context or zmq.Context()
        self._slots = threading.BoundedSemaphore(max_outstanding)
        self._inbox: deque[_Call] = deque()
        self._prefix = uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        self._closed = False  # close() was called
        self._dead = False  # the I/O thread has ended
        self._stopping = False
        # A pipe wakes the I/O thread when a request is queued; zmq.Poller watches raw fds.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.reconnects = 0
        self.discarded = 0  # replies whose id was not outstanding (duplicates, strays)
        self._thread = threading.Thread(target=self._io_loop, name="tokcom-client-io",
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- blocking calls -----------------------------------------------------------------

    def info(self, timeout: float | None = None) -> dict:
        return self._wait(self.submit_info(timeout=timeout), timeout)

    def tokenize(self, images, timeout: float | None = None) -> np.ndarray:
        """uint8 (H, W), (B, H, W) or (B, H, W, C) -> uint16 tokens (h, w) / (B, h, w)."""
        return self._wait(self.submit_tokenize(images, timeout=timeout), timeout)

    def detokenize(self, tokens, timeout: float | None = None) -> np.ndarray:
        """tokens (h, w) / (B, h, w) -> uint8 images (H, W[, C]) / (B, H, W[, C])."""
        return self._wait(self.submit_detokenize(tokens, timeout=timeout), timeout)

    def predict(self, tokens, mask, labels=None, *, steps: int | None = None,
                schedule: str | None = None, temperature: float | None = None,
                seed: int | None = None, timeout: float | None = None, llrs=None,
                llr_weight: float | None = None,
                candidates: int | None = None) -> PredictResult:
        """Fill the masked tokens; None parameters take the server's defaults (``info``).

        llrs ((h*w, b) or (B, h*w, b) float32 bit LLRs, positive = 1), llr_weight and
        candidates are protocol version 2 (docs/protocol.md); without them the request is
        a version-1 request."""
        fut = self.submit_predict(tokens, mask, labels, steps=steps, schedule=schedule,
                                  temperature=temperature, seed=seed, timeout=timeout,
                                  llrs=llrs, llr_weight=llr_weight, candidates=candidates)
        return self._wait(fut, timeout)

    # -- futures ------------------------------------------------------------------------

    def submit_info(self, *, timeout: float | None = None, block: bool = True) -> Future:
        return self._submit(OP_INFO, [], None, lambda result, arrays: result, timeout, block)

    def submit_tokenize(self, images, *, timeout: float | None = None,
                        block: bool = True) -> Future:
        imgs, single = _images_array(images)

        def decode(result, out):
            tok = _take(out, "tokens")
            return tok[0] if single else tok

        return self._submit(OP_TOKENIZE, [("images", "uint8", imgs)], None, decode, timeout,
                            block)

    def submit_detokenize(self, tokens, *, timeout: float | None = None,
                          block: bool = True) -> Future:
        tok, single = _tokens_array(tokens)

        def decode(result, out):
            img = _take(out, "images")
            return img[0] if single else img

        return self._submit(OP_DETOKENIZE, [("tokens", "uint16", tok)], None, decode, timeout,
                            block)

    def submit_predict(self, tokens, mask, labels=None, *, steps: int | None = None,
                       schedule: str | None = None, temperature: float | None = None,
                       seed: int | None = None, timeout: float | None = None,
                       block: bool = True, llrs=None, llr_weight: float | None = None,
                       candidates: int | None = None) -> Future:
        """Like :meth:`predict` but returns a Future of :class:`PredictResult`.

        With ``block=False`` raises :class:`ServiceBusy` instead of waiting when
        ``max_outstanding`` requests are already in flight (for real-time callers).
        """
        tok, single = _tokens_array(tokens)
        arrays = [("tokens", "uint16", tok), ("mask", "uint8", _mask_array(mask, tok.shape))]
        lab = _labels_array(labels, tok.shape[0])
        if lab is not None:
            arrays.append(("labels", "int32", lab))
        # Plain Python scalars for JSON (numpy integers are welcome, floats for ints are not).
        params = {k: conv(v) for k, v, conv in (
            ("steps", steps, operator.index), ("schedule", schedule, str),
            ("temperature", temperature, float), ("seed", seed, operator.index),
            ("llr_weight", llr_weight, float), ("candidates", candidates, operator.index))
            if v is not None}
        if llrs is not None:
            a = np.asarray(llrs, dtype="<f4")
            a = a[None] if a.ndim == 2 else a
            if a.ndim != 3 or a.shape[:2] != (tok.shape[0], tok.shape[1] * tok.shape[2]):
                raise ValueError(f"llrs must be (h*w, b) or (B, h*w, b), got {a.shape}")
            arrays.append(("llrs", "float32", np.ascontiguousarray(a)))
        # Version 2 only when its features are used: version-1 servers keep working.
        version = 2 if (llrs is not None or "llr_weight" in params
                        or "candidates" in params) else 1

        def decode(result, out):
            t, c = _take(out, "tokens"), _take(out, "confidence")
            n, ms = int(result.get("batch_frames", 1)), float(result.get("server_ms", 0.0))
            cand = lp = None
            if "candidates" in out:
                cand, lp = _take(out, "candidates"), _take(out, "candidate_logp")
            if single:
                return PredictResult(t[0], c[0], n, ms, None if cand is None else cand[0],
                                     None if lp is None else lp[0])
            return PredictResult(t, c, n, ms, cand, lp)

        return self._submit(OP_PREDICT, arrays, params, decode, timeout, block, version)

    def close(self, join_timeout: float = 5.0) -> None:
        """Stop the I/O thread; unanswered futures fail with :class:`ClientClosed`."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        self._wake()
        self._thread.join(join_timeout)
        if self._thread.is_alive():
            log.warning("client I/O thread did not stop within %.1f s", join_timeout)
            return
        os.close(self._wake_r)
        os.close(self._wake_w)
        if self._own_ctx:
            self._ctx.term()

    # -- internals (caller side) --------------------------------------------------------

    def _wait(self, fut: Future, timeout: float | None):
        per_try = self.timeout if timeout is None else timeout
        # The I/O thread resolves every future within (retries + 1) tries; the margin only
        # guards against a bug leaving the caller blocked forever.
        try:
            return fut.result(timeout=(self.retries + 1) * per_try + 10.0)
        except FutureTimeout:
            fut.cancel()
            raise ServiceTimeout("no result from the client I/O thread") from None

    def _submit(self, op, arrays, params, decode, timeout, block, version=1) -> Future:
        if self._closed or self._dead:
            raise ClientClosed()
        per_try = self.timeout if timeout is None else float(timeout)
        if per_try <= 0:
            raise ValueError("timeout must be > 0")
        if not self._slots.acquire(blocking=block):
            raise ServiceBusy("too many outstanding requests")
        rid = f"{self._prefix}-{next(self._counter)}"
        try:
            frames = [b"", *request_frames(op, rid, arrays, params, version)]
        except Exception:
            self._slots.release()
            raise
        fut: Future = Future()
        fut.add_done_callback(lambda _f: self._slots.release())
        self._inbox.append(_Call(rid, op, frames, fut, decode, per_try, self.retries))
        self._wake()
        if self._closed or self._dead:  # raced with the thread's end: nobody may wait
            _resolve(fut, exc=ClientClosed())
        return fut

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")  # a full pipe already means "wake up"

    # -- internals (I/O thread) ---------------------------------------------------------

    def _open_socket(self) -> zmq.Socket:
        sock = self._ctx.socket(zmq.DEALER)
        sock.linger = 0
        if self.curve is not None:
            self.curve.apply(sock)
        sock.connect(self.endpoint)
        return sock

    def _io_loop(self) -> None:
        calls: dict[str, _Call] = {}
        sock = self._open_socket()
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        try:
            while not self._stopping:
                now = time.monotonic()
                next_deadline = min((c.deadline for c in calls.values()), default=None)
                wait_ms = MAX_POLL_MS
                if next_deadline is not None:
                    wait_ms = min(wait_ms, max(0, math.ceil((next_deadline - now) * 1e3)))
                events = dict(poller.poll(wait_ms))
                if self._wake_r in events:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                self._send_new(sock, calls)
                if events.get(sock):
                    self._read_replies(sock, calls)
                now = time.monotonic()
                expired = [c for c in calls.values() if c.deadline <= now]
                for c in [c for c in expired if c.future.cancelled()]:
                    del calls[c.request_id]  # nobody waits for it: no reason to reconnect
                    expired.remove(c)
                if expired:
                    poller.unregister(sock)
                    sock = self._recover(sock, calls, expired)
                    poller.register(sock, zmq.POLLIN)
        except Exception:  # never leave callers waiting on a dead thread
            log.exception("client I/O thread failed")
        finally:
            sock.close(linger=0)
            self._dead = True
            pending = list(calls.values()) + list(self._inbox)
            self._inbox.clear()
            for c in pending:
                _resolve(c.future, exc=ClientClosed())

    def _send(self, sock: zmq.Socket, call: _Call) -> None:
        call.attempts += 1
        call.deadline = time.monotonic() + call.timeout
        try:
            sock.send_multipart(call.frames, flags=zmq.NOBLOCK, copy=False)
        except zmq.Again:
            # Queue full (no connection yet): the deadline will trigger a resend.
            log.debug("request %s not queued (socket full)", call.request_id)

    def _send_new(self, sock: zmq.Socket, calls: dict[str, _Call]) -> None:
        while self._inbox:
            call = self._inbox.popleft()
            if call.future.cancelled():
                continue
            calls[call.request_id] = call
            self._send(sock, call)

    def _read_replies(self, sock: zmq.Socket, calls: dict[str, _Call]) -> None:
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._dispatch(frames, calls)

    def _dispatch(self, frames: list, calls: dict[str, _Call]) -> None:
        if len(frames) < 2 or len(frames[0]) != 0:
            self.discarded += 1
            return
        try:
            header = decode_header(frames[1])
        except ProtocolError:
            self.discarded += 1
            return
        rid = header.get("id")
        call = calls.pop(rid, None) if isinstance(rid, str) else None
        if call is None:  # not outstanding: answered already, or not ours
            self.discarded += 1
            return
        try:
            result = self._decode_reply(call, header, frames[2:])
        except ServiceError as exc:
            _resolve(call.future, exc=exc)
        except Exception as exc:  # a broken reply fails only its own call
            _resolve(call.future, exc=ServiceError(BAD_REPLY, f"{type(exc).__name__}: {exc}"))
        else:
            _resolve(call.future, result)

    @staticmethod
    def _decode_reply(call: _Call, header: dict, payloads: list):
        status = header.get("status")
        if status == STATUS_ERROR:
            err = header.get("error") or {}
            raise ServiceError(str(err.get("code", BAD_REPLY)), str(err.get("message", "")))
        if status != STATUS_OK:
            raise ServiceError(BAD_REPLY, f"unknown status {status!r}")
        try:
            arrays = decode_arrays(parse_array_descs(header.get("arrays", [])), payloads)
        except ProtocolError as exc:
            raise ServiceError(BAD_REPLY, exc.message) from None
        result = header.get("result") or {}
        return call.decode(result, arrays)

    def _recover(self, sock: zmq.Socket, calls: dict[str, _Call],
                 expired: list[_Call]) -> zmq.Socket:
        for c in expired:
            c.retries_left -= 1
            if c.retries_left < 0:
                del calls[c.request_id]
                _resolve(c.future, exc=ServiceTimeout(
                    f"{c.op} {c.request_id}: no reply after {c.attempts} attempt(s) of "
                    f"{c.timeout:g} s to {self.endpoint}"))
        # Lazy Pirate: the connection may hold lost requests or be wedged; start afresh and
        # resend everything still outstanding under its original id.
        sock.close(linger=0)
        sock = self._open_socket()
        self.reconnects += 1
        for rid in [r for r, c in calls.items() if c.future.cancelled()]:
            del calls[rid]
        if calls:
            log.info("no reply within the timeout; reconnected to %s and resent %d request(s)",
                     self.endpoint, len(calls))
        for c in calls.values():
            self._send(sock, c)
        return sock
