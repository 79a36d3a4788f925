"""The model service loop: one ROUTER socket, one thread, micro-batched predicts.

Single-threaded on purpose: torch already uses the cores for the math, and while a batch
runs libzmq's own I/O thread keeps queueing incoming requests, which the next drain
picks up - under load this alone forms batches.  Every message gets exactly one reply
(an error reply if it is malformed); no input can raise out of the loop.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import numpy as np
import zmq
from zmq.auth.thread import ThreadAuthenticator

from .batching import BatchWindow, PendingPredict, plan_batches
from .errors import ProtocolError
from .protocol import (
    BAD_REQUEST,
    INTERNAL,
    OP_DETOKENIZE,
    OP_INFO,
    OP_PREDICT,
    OP_TOKENIZE,
    error_reply_frames,
    ok_reply_frames,
)
from .stats import LoadStats
from .validation import Limits, ModelSpec, Request, parse_request

log = logging.getLogger("tokcom.service")

IDLE_POLL_MS = 100  # how often an idle loop re-checks the stop flag
DRAIN_LIMIT = 256  # messages read per wake-up before running work (bounds reply latency)
HWM = 1000  # messages queued per peer; bounds memory a flooding peer can pin


def split_envelope(frames: list) -> tuple[list, list]:
    """ROUTER frames -> (envelope up to and including the empty delimiter, body).

    Without a delimiter the message is malformed; the reply then goes to the identity
    frame with a delimiter added so a DEALER client can still read it.
    """
    for i, f in enumerate(frames):
        if len(f) == 0:
            return frames[: i + 1], frames[i + 1:]
    return [frames[0], b""], None


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
        self.window = BatchWindow(batch_window_s, max_batch)
        self.max_batch = max_batch
        self.stats = LoadStats(log)
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        self._auth = None
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.rcvhwm = HWM
        self.sock.sndhwm = HWM
        # Hard per-frame cap: a peer sending a frame this big is disconnected by libzmq
        # without a reply; anything up to it is read and answered TOO_LARGE if over the
        # protocol limit.
        self.sock.maxmsgsize = 2 * self.spec.limits.max_message_bytes
        if curve_secret is not None:
            self._auth = ThreadAuthenticator(self.ctx, log=logging.getLogger("tokcom.service.auth"))
            self._auth.start()
            # Without a client directory any client key is accepted (encryption only).
            self._auth.configure_curve(domain="*",
                                       location=curve_clients_dir or zmq.auth.CURVE_ALLOW_ANY)
            self.sock.curve_publickey, self.sock.curve_secretkey = curve_secret
            self.sock.curve_server = True
        try:
            self.sock.bind(bind)
        except zmq.ZMQError:
            self._release()
            raise
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        log.info("serving %s on %s (curve %s, batch window %.1f ms, max batch %d)",
                 self.spec.model_id, self.endpoint,
                 "off" if curve_secret is None else
                 ("clients in " + curve_clients_dir if curve_clients_dir else "any client key"),
                 1e3 * batch_window_s, max_batch)

    # -- loop ---------------------------------------------------------------------------

    def run(self, should_stop: Callable[[], bool]) -> None:
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        pending: list[PendingPredict] = []
        while not should_stop():
            timeout = IDLE_POLL_MS
            if pending:
                wait = self.window.wait_seconds(pending)
                if wait <= 0:
                    self._run_predicts(pending)
                    pending = []
                    timeout = 0  # collect what queued up during the batch, then decide
                else:
                    timeout = max(1, math.ceil(wait * 1e3))
            if poller.poll(timeout):
                self._drain(pending)
            self.stats.maybe_log()
        if pending:  # answer what was accepted before stopping
            self._run_predicts(pending)

    def close(self) -> None:
        self._release()
        log.info("stopped after %d requests (%d errors)", self.stats.total_requests,
                 self.stats.total_errors)

    def _release(self) -> None:
        self.sock.close(linger=0)
        if self._auth is not None:
            self._auth.stop()
        if self._own_ctx:
            self.ctx.term()

    # -- message handling ---------------------------------------------------------------

    def _drain(self, pending: list[PendingPredict]) -> None:
        for _ in range(DRAIN_LIMIT):
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._handle(frames, pending)

    def _handle(self, frames: list, pending: list[PendingPredict]) -> None:
        received = time.monotonic()
        envelope, body = split_envelope(frames)
        try:
            if body is None:
                raise ProtocolError(BAD_REQUEST, "missing empty delimiter frame before header")
            req = parse_request(body, self.spec)
        except ProtocolError as exc:
            self.stats.request(exc.op)
            self._send_error(envelope, exc)
            return
        except Exception as exc:  # a validation bug must not take the server down
            log.exception("request parsing failed")
            self.stats.request(None)
            self._send_error(envelope, ProtocolError(INTERNAL, f"{type(exc).__name__}: {exc}"))
            return
        self.stats.request(req.op)
        if req.op == OP_PREDICT:
            pending.append(PendingPredict(envelope, req, received))
            self.window.seen(bytes(envelope[0]))
            return
        try:
            reply = self._execute(req, received)
        except Exception as exc:  # a failing op must not stop the server
            log.exception("op %s failed", req.op)
            self._send_error(envelope, ProtocolError(INTERNAL, f"{type(exc).__name__}: {exc}",
                                                     req.request_id, req.op))
            return
        self._send(envelope, reply)

    def _execute(self, req: Request, received: float) -> list:
        if req.op == OP_INFO:
            return ok_reply_frames(req.op, req.request_id, result=self.spec.info(),
                                   version=req.version)
        if req.op == OP_TOKENIZE:
            tokens = self.engine.tokenize(req.arrays["images"])
            return ok_reply_frames(req.op, req.request_id, [("tokens", "uint16", tokens)],
                                   {"server_ms": _ms_since(received)}, req.version)
        if req.op == OP_DETOKENIZE:
            images = self.engine.detokenize(req.arrays["tokens"])
            return ok_reply_frames(req.op, req.request_id, [("images", "uint8", images)],
                                   {"server_ms": _ms_since(received)}, req.version)
        raise AssertionError(f"unhandled op {req.op}")

    def _run_predicts(self, pending: list[PendingPredict]) -> None:
        for batch in plan_batches(pending, self.max_batch):
            reqs = [p.request for p in batch]
            frames = sum(r.frames for r in reqs)
            try:
                tokens = np.concatenate([r.arrays["tokens"] for r in reqs])
                mask = np.concatenate([r.arrays["mask"] for r in reqs])
                labels = None
                if any("labels" in r.arrays for r in reqs):
                    labels = np.concatenate([
                        r.arrays["labels"] if "labels" in r.arrays
                        else np.full(r.frames, -1, np.int32) for r in reqs])
                llrs = None
                if any("llrs" in r.arrays for r in reqs):  # v2: zeros = no channel info
                    llrs = np.concatenate([
                        r.arrays["llrs"] if "llrs" in r.arrays
                        else np.zeros((r.frames, self.spec.grid_h * self.spec.grid_w,
                                       self.spec.token_bits), np.float32)
                        for r in reqs])
                out = self.engine.predict(tokens, mask, labels, **reqs[0].params, llrs=llrs)
                filled, conf = out[:2]
            except Exception as exc:  # fail this batch's requests, keep serving
                log.exception("predict batch of %d frames failed", frames)
                for p in batch:
                    self._send_error(p.envelope, ProtocolError(
                        INTERNAL, f"{type(exc).__name__}: {exc}", p.request.request_id,
                        OP_PREDICT))
                continue
            self.stats.batch(frames)
            start = 0
            for p in batch:
                n = p.request.frames
                arrays = [("tokens", "uint16", filled[start:start + n]),
                          ("confidence", "float32", conf[start:start + n])]
                if len(out) == 4:  # v2 candidates
                    arrays += [("candidates", "uint16", out[2][start:start + n]),
                               ("candidate_logp", "float32", out[3][start:start + n])]
                reply = ok_reply_frames(
                    OP_PREDICT, p.request.request_id, arrays,
                    result={"batch_frames": frames, "batch_requests": len(batch),
                            "server_ms": _ms_since(p.arrived)}, version=p.request.version)
                self._send(p.envelope, reply)
                start += n

    def _send_error(self, envelope: list, exc: ProtocolError) -> None:
        self.stats.error(exc.code)
        self._send(envelope, error_reply_frames(exc))

    def _send(self, envelope: list, frames: list) -> None:
        try:
            # ROUTER drops (never blocks) if the peer is gone or over its high-water mark.
            self.sock.send_multipart([*envelope, *frames], copy=False)
        except zmq.ZMQError as exc:
            log.warning("reply dropped: %s", exc)
