"""Connection and handshake events of the server socket (libzmq socket monitor), logged.

libzmq accepts, authenticates and drops connections in its own I/O thread; without a
monitor none of that is visible.  This logs what an operator needs: CURVE / ZMTP
handshake failures, failed accepts (most often the descriptor limit: errno EMFILE) and
the number of open connections, each kind at most once per ``interval`` seconds with a
count of the lines it held back.  Torch-free.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

# Descriptors the process needs besides client connections (libzmq mailboxes and
# eventfds, the model files, logging, torch's thread pools), measured with margin.
RESERVED_DESCRIPTORS = 64

_EVENTS = {
    zmq.EVENT_ACCEPTED: "accepted",
    zmq.EVENT_DISCONNECTED: "disconnected",
    zmq.EVENT_ACCEPT_FAILED: "accept failed",
    zmq.EVENT_HANDSHAKE_SUCCEEDED: "handshake succeeded",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "handshake failed",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "handshake failed (protocol)",
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "handshake failed (authentication)",
}


def raise_descriptor_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_capacity() -> tuple[int, int]:
    """(about how many client connections fit, the descriptor limit)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(0, soft - RESERVED_DESCRIPTORS), soft


class ThrottledLog:
    """Logs each kind of line at most once per interval, then says how many it held back."""

    def __init__(self, logger: logging.Logger, interval: float = 1.0, clock=time.monotonic):
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, kind: str, level: int, msg: str, *args) -> None:
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        held = self._held.pop(kind, 0)
        self._last[kind] = now
        if held:
            msg += " (%d more like it in the last %.0f s)"
            args = (*args, held, now - last)
        self._log.log(level, msg, *args)


class ConnectionMonitor:
    """Reads the monitor socket of ``sock`` (poll ``self.socket`` for POLLIN, then drain)."""

    def __init__(self, sock: zmq.Socket, logger: logging.Logger, interval: float = 1.0):
        self.socket = sock.get_monitor_socket(sum(_EVENTS))
        self._log = logger
        self._say = ThrottledLog(logger, interval)
        self.open = 0  # connections accepted and not yet disconnected
        self.peak = 0
        self.counts: dict[str, int] = {name: 0 for name in _EVENTS.values()}

    def drain(self, limit: int = 1000) -> None:
        for _ in range(limit):
            try:
                event = recv_monitor_message(self.socket, zmq.NOBLOCK)
            except zmq.Again:
                return
            self._handle(event)

    def _handle(self, event: dict) -> None:
        kind = event["event"]
        name = _EVENTS.get(kind)
        if name is None:
            return
        self.counts[name] += 1
        value, where = event["value"], event["endpoint"].decode(errors="replace")
        if kind == zmq.EVENT_ACCEPTED:
            self.open += 1
            self.peak = max(self.peak, self.open)
            self._log.debug("connection accepted on %s (%d open)", where, self.open)
        elif kind == zmq.EVENT_DISCONNECTED:
            self.open = max(0, self.open - 1)
            self._log.debug("connection closed on %s (%d open)", where, self.open)
        elif kind == zmq.EVENT_ACCEPT_FAILED:
            hint = ""
            if value in (errno.EMFILE, errno.ENFILE):
                hint = (f"; descriptor limit {connection_capacity()[1]} reached: new clients "
                        f"wait unanswered until connections close")
            self._say("accept", logging.WARNING, "accept failed on %s: %s%s (%d open)", where,
                      os.strerror(value), hint, self.open)
        elif kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            # value: the ZAP status code (400 = key not authorised)
            self._say("auth", logging.WARNING, "client rejected on %s: CURVE authentication "
                      "failed (ZAP status %d)", where, value)
        elif kind == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
            # value: a ZMQ_PROTOCOL_ERROR_* code, e.g. a plain client on a CURVE server
            self._say("handshake", logging.WARNING, "client handshake failed on %s: ZMTP "
                      "protocol error 0x%x (wrong security mechanism or not a ZMQ peer)",
                      where, value)
        elif kind == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            self._say("handshake", logging.WARNING, "client handshake failed on %s: %s",
                      where, os.strerror(value))

    def close(self) -> None:
        self.socket.close(linger=0)
