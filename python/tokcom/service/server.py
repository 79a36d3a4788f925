"""The model service loop: one ROUTER socket read by one thread, predicts in a worker.

The loop thread owns the socket: it reads each message part by part within the limits,
validates it, answers ``info``, errors, resends and the cheap ops at once, and queues
``predict`` requests; the worker thread (worker.py) runs one micro-batch at a time while
the loop keeps reading, so requests arriving during a batch form the next one.  Every
message gets exactly one reply (an error reply if it is malformed or over a limit); no
input can raise out of the loop.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import zmq
from zmq.auth.thread import ThreadAuthenticator

from .batching import BatchWindow, PendingPredict, plan_batches
from .connections import ConnectionMonitor, ThrottledLog, connection_capacity
from .errors import ProtocolError
from .protocol import (
    BAD_REQUEST,
    INTERNAL,
    MAX_ARRAYS,
    OP_DETOKENIZE,
    OP_INFO,
    OP_PREDICT,
    OP_TOKENIZE,
    TOO_LARGE,
    error_reply_frames,
    ok_reply_frames,
)
from .replies import ReplyBook, request_key
from .stats import LoadStats
from .validation import Limits, ModelSpec, Request, parse_request
from .worker import PredictWorker

log = logging.getLogger("tokcom.service")

IDLE_POLL_MS = 100  # how often an idle loop re-checks the stop flag
DRAIN_LIMIT = 256  # messages read per wake-up before looking at the worker again
# Messages libzmq queues per peer before it stops reading that peer's TCP connection.
# The loop reads continuously, so this fills only while it is busy with a burst.
HWM = 100
MAX_ENVELOPE_FRAMES = 8  # routing frames kept before the delimiter (proxies add some)
MAX_BODY_FRAMES = 1 + MAX_ARRAYS  # header + payloads


def _ms_since(t: float) -> float:
    """Time in the server (receipt to reply) for the reply's ``server_ms`` diagnostics."""
    return round(1e3 * (time.monotonic() - t), 3)


class ServiceServer:
    def __init__(self, engine, bind: str, *, batch_window_s: float = 0.002,
                 max_batch: int = 16, limits: Limits | None = None,
                 curve_secret: tuple[bytes, bytes] | None = None,
                 curve_clients_dir: str | None = None, context: zmq.Context | None = None):
        self.engine = engine
        self.spec: ModelSpec = engine.spec(limits or Limits())
        self.limits = self.spec.limits
        self.window = BatchWindow(batch_window_s, max_batch)
        self.max_batch = max_batch
        self.stats = LoadStats(log)
        self.replies = ReplyBook()
        self.computed = 0  # predict requests run by the model
        self._say = ThrottledLog(log)
        self._pending: list[PendingPredict] = []
        self._queued: dict[bytes, int] = {}  # peer identity -> request bytes not yet answered
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        self._auth = None
        self.monitor = None
        self.worker = None
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.rcvhwm = HWM
        self.sock.sndhwm = HWM
        # Per-frame cap enforced by libzmq while receiving: a peer sending a larger frame
        # is disconnected without a reply.  Up to it, a frame is read and a message over
        # the protocol limit answered TOO_LARGE.  (libzmq has no cap on frames per
        # message: the loop counts those, see _recv_message.)
        self.sock.maxmsgsize = 2 * self.limits.max_message_bytes
        if curve_secret is not None:
            self._auth = ThreadAuthenticator(self.ctx, log=logging.getLogger("tokcom.service.auth"))
            self._auth.start()
            # Without a client directory any client key is accepted (encryption only).
            self._auth.configure_curve(domain="*",
                                       location=curve_clients_dir or zmq.auth.CURVE_ALLOW_ANY)
            self.sock.curve_publickey, self.sock.curve_secretkey = curve_secret
            self.sock.curve_server = True
        self.monitor = ConnectionMonitor(self.sock, log)
        try:
            self.sock.bind(bind)
        except zmq.ZMQError:
            self._release()
            raise
        self.worker = PredictWorker(engine, self.ctx)
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        log.info("serving %s on %s (curve %s, batch window %.1f ms, max batch %d)",
                 self.spec.model_id, self.endpoint,
                 "off" if curve_secret is None else
                 ("clients in " + curve_clients_dir if curve_clients_dir else "any client key"),
                 1e3 * batch_window_s, max_batch)
        capacity, nofile = connection_capacity()
        log.info("connections: about %d at once (descriptor limit %d); past that new clients "
                 "wait unanswered until others close (logged)", capacity, nofile)

    # -- loop ---------------------------------------------------------------------------

    def run(self, should_stop: Callable[[], bool]) -> None:
        poller = zmq.Poller()
        for s in (self.sock, self.worker.wake, self.monitor.socket):
            poller.register(s, zmq.POLLIN)
        while not should_stop():
            timeout = IDLE_POLL_MS
            if self._pending and not self.worker.busy:
                wait = self.window.wait_seconds(self._pending)
                if wait <= 0:
                    self._dispatch()
                else:
                    timeout = max(1, math.ceil(wait * 1e3))
            ready = dict(poller.poll(timeout))
            if self.worker.wake in ready:
                self._collect()
            if self.sock in ready:
                self._drain()
            if self.monitor.socket in ready:
                self.monitor.drain()
            self.stats.maybe_log()
        # Answer what was accepted before stopping.
        while self._pending or self.worker.busy:
            if not self.worker.busy:
                self._dispatch()
            if self.worker.wake.poll(IDLE_POLL_MS):
                self._collect()

    def close(self) -> None:
        self._release()
        log.info("stopped after %d requests (%d errors); predict: %d computed, %d joined a "
                 "running copy, %d from the reply cache; peak %d connections",
                 self.stats.total_requests, self.stats.total_errors, self.computed,
                 self.replies.joined, self.replies.cached, self.monitor.peak)

    def _release(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.monitor is not None:
            self.sock.disable_monitor()
            self.monitor.close()
        self.sock.close(linger=0)
        if self._auth is not None:
            self._auth.stop()
        if self._own_ctx:
            self.ctx.term()

    # -- receiving ----------------------------------------------------------------------

    def _drain(self) -> None:
        for _ in range(DRAIN_LIMIT):
            try:
                msg = self._recv_message()
            except zmq.Again:
                return
            self._handle(*msg)

    def _recv_message(self):
        """One message, part by part and without copying -> (envelope, body, received).

        Only what fits the limits is kept: at most MAX_ENVELOPE_FRAMES routing frames, the
        header, and payload frames while the message stays within MAX_BODY_FRAMES and
        ``max_message_bytes``; every other part is released as soon as it is read.
        ``received`` = (frames, bytes) after the envelope, counted over all parts; body
        is None if no empty delimiter ended the envelope.
        """
        part = self.sock.recv(zmq.NOBLOCK, copy=False)
        envelope, body = [part], None
        count = nbytes = 0
        while part.more:
            part = self.sock.recv(copy=False)
            if body is None:
                if len(part) == 0:
                    envelope.append(part)
                    body = []
                elif len(envelope) < MAX_ENVELOPE_FRAMES:
                    envelope.append(part)
                continue
            count += 1
            nbytes += len(part)
            if count == 1 or (count <= MAX_BODY_FRAMES
                              and nbytes <= self.limits.max_message_bytes):
                body.append(part)  # the header always, to name the request in the reply
        return envelope, body, (count, nbytes)

    def _handle(self, envelope: list, body: list | None, received: tuple[int, int]) -> None:
        arrived = time.monotonic()
        try:
            if body is None:
                envelope = [envelope[0], b""]  # so a DEALER client can still read the reply
                raise ProtocolError(BAD_REQUEST, "missing empty delimiter frame before header")
            req = parse_request(body, self.spec, received)
        except ProtocolError as exc:
            self.stats.request(exc.op)
            if exc.code == TOO_LARGE:
                self._say("too large", logging.WARNING, "dropped %d frames, %d bytes from "
                          "peer %s: %s", *received, bytes(envelope[0]).hex()[:16], exc.message)
            self._send_error(envelope, exc)
            return
        except Exception as exc:  # a validation bug must not take the server down
            log.exception("request parsing failed")
            self.stats.request(None)
            self._send_error(envelope, ProtocolError(INTERNAL, f"{type(exc).__name__}: {exc}"))
            return
        self.stats.request(req.op)
        if req.op == OP_PREDICT:
            self._accept_predict(envelope, body, received[1], req, arrived)
            return
        try:
            reply = self._execute(req, arrived)
        except Exception as exc:  # a failing op must not stop the server
            log.exception("op %s failed", req.op)
            self._send_error(envelope, ProtocolError(INTERNAL, f"{type(exc).__name__}: {exc}",
                                                     req.request_id, req.op))
            return
        self._send(envelope, reply)

    def _accept_predict(self, envelope, body, nbytes: int, req: Request, arrived: float):
        key = request_key(req.request_id, body)
        cached = self.replies.cached_reply(key)
        if cached is not None:
            self._send(envelope, cached)
            return
        if self.replies.join(key, envelope):
            return
        peer = bytes(envelope[0])
        queued = self._queued.get(peer, 0) + nbytes
        if queued > self.limits.max_queued_bytes:
            self._say("queue", logging.WARNING, "peer %s has %d bytes of requests waiting "
                      "(limit %d): request refused", peer.hex()[:16], queued - nbytes,
                      self.limits.max_queued_bytes)
            self._send_error(envelope, ProtocolError(
                TOO_LARGE, f"this connection already has {queued - nbytes} bytes of requests "
                           f"waiting (limit {self.limits.max_queued_bytes}): wait for replies",
                req.request_id, req.op))
            return
        self._queued[peer] = queued
        self.replies.start(key, envelope)
        self._pending.append(PendingPredict(envelope, req, arrived, key, nbytes))
        self.window.seen(peer)

    # -- work ---------------------------------------------------------------------------

    def _execute(self, req: Request, arrived: float) -> list:
        if req.op == OP_INFO:
            return ok_reply_frames(req.op, req.request_id, result=self.spec.info(),
                                   version=req.version)
        if req.op == OP_TOKENIZE:
            tokens = self.engine.tokenize(req.arrays["images"])
            return ok_reply_frames(req.op, req.request_id, [("tokens", "uint16", tokens)],
                                   {"server_ms": _ms_since(arrived)}, req.version)
        if req.op == OP_DETOKENIZE:
            images = self.engine.detokenize(req.arrays["tokens"])
            return ok_reply_frames(req.op, req.request_id, [("images", "uint8", images)],
                                   {"server_ms": _ms_since(arrived)}, req.version)
        raise AssertionError(f"unhandled op {req.op}")

    def _dispatch(self) -> None:
        """Give the worker the first batch (arrival order); the rest wait for newcomers."""
        batch = plan_batches(self._pending, self.max_batch)[0]
        taken = {id(p) for p in batch}
        self._pending = [p for p in self._pending if id(p) not in taken]
        self.worker.submit(batch)

    def _collect(self) -> None:
        for batch, result, error in self.worker.collect():
            frames = sum(p.request.frames for p in batch)
            if error is None:
                self.stats.batch(frames)
                self.computed += len(batch)
            start = 0
            for p in batch:
                n = p.request.frames
                if error is None:
                    filled, conf = result[:2]
                    arrays = [("tokens", "uint16", filled[start:start + n]),
                              ("confidence", "float32", conf[start:start + n])]
                    if len(result) == 4:  # v2 candidates
                        arrays += [("candidates", "uint16", result[2][start:start + n]),
                                   ("candidate_logp", "float32", result[3][start:start + n])]
                    reply = ok_reply_frames(
                        OP_PREDICT, p.request.request_id, arrays,
                        result={"batch_frames": frames, "batch_requests": len(batch),
                                "server_ms": _ms_since(p.arrived)},
                        version=p.request.version)
                else:
                    reply = None
                    err = ProtocolError(INTERNAL, f"{type(error).__name__}: {error}",
                                        p.request.request_id, OP_PREDICT)
                start += n
                self._unqueue(p)
                for envelope in self.replies.finish(p.key, reply):
                    if reply is None:
                        self._send_error(envelope, err)
                    else:
                        self._send(envelope, reply)

    def _unqueue(self, p: PendingPredict) -> None:
        left = self._queued.get(p.identity, 0) - p.nbytes
        if left > 0:
            self._queued[p.identity] = left
        else:
            self._queued.pop(p.identity, None)

    # -- sending ------------------------------------------------------------------------

    def _send_error(self, envelope: list, exc: ProtocolError) -> None:
        self.stats.error(exc.code)
        self._send(envelope, error_reply_frames(exc))

    def _send(self, envelope: list, frames: list) -> None:
        try:
            # ROUTER drops (never blocks) if the peer is gone or over its high-water mark.
            self.sock.send_multipart([*envelope, *frames], copy=False)
        except zmq.ZMQError as exc:
            log.warning("reply dropped: %s", exc)
