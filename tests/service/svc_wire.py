"""Raw-socket helpers for the service tests: build frames by hand, read one reply."""

from __future__ import annotations

import json
import re

import numpy as np
import zmq

# Geometry of the tiny test bundle (training preset "tiny").
GRID = (8, 8)
Q = 64
NCLASS = 10
IMAGE = (28, 28)

# The shared server's limits (small, so the limit tests stay small).
MAX_MESSAGE_BYTES = 256 * 1024
MAX_REQUEST_FRAMES = 16
MAX_WORK = 16384  # frames x steps x 64 positions: 4 frames at 64 steps, 16 at 16


def header(op="predict", rid="req-1", version=1, arrays=None, params=None, **extra) -> dict:
    h = {"version": version, "op": op, "id": rid}
    if arrays is not None:
        h["arrays"] = arrays
    if params is not None:
        h["params"] = params
    h.update(extra)
    return h


def desc(name, dtype, shape) -> dict:
    return {"name": name, "dtype": dtype, "shape": list(shape)}


def predict_frames(batch=1, rid="req-1", tokens=None, mask=None, labels=None, params=None,
                   seed=0) -> list:
    """[b"", header, tokens, mask(, labels)] of a valid predict request."""
    g = np.random.default_rng(seed)
    tok = g.integers(0, Q, (batch, *GRID)).astype("<u2") if tokens is None else tokens
    msk = (g.random((batch, *GRID)) < 0.3).astype(np.uint8) if mask is None else mask
    arrays = [desc("tokens", "uint16", tok.shape), desc("mask", "uint8", msk.shape)]
    payloads = [tok.tobytes(), msk.tobytes()]
    if labels is not None:
        arrays.append(desc("labels", "int32", labels.shape))
        payloads.append(labels.astype("<i4").tobytes())
    h = header("predict", rid, arrays=arrays, params=params)
    return [b"", json.dumps(h).encode(), *payloads]


def exchange(sock: zmq.Socket, frames: list, timeout_s: float = 10.0) -> tuple[dict, list]:
    """Send one message on a DEALER socket and return (reply header, payload frames)."""
    sock.send_multipart(frames)
    if not sock.poll(int(timeout_s * 1000)):
        raise AssertionError("no reply from the server")
    reply = sock.recv_multipart()
    assert reply[0] == b"", "reply must start with the empty delimiter"
    return json.loads(reply[1]), reply[2:]


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc)."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024
