"""Hostile and heavy traffic against a real server (issue #14): each finding reproduced.

Servers bind 127.0.0.1; every loop is bounded in count and time.
"""

import json
import socket
import time

import numpy as np
import pytest
import zmq
from svc_wire import GRID, MAX_WORK, Q, exchange, predict_frames, rss_mib

from gnuradio.tokcom.service import ServiceClient

LONG = ["--max-request-frames", "64", "--max-work", str(64 * 64 * 64)]  # ~1 s predicts


@pytest.fixture
def dealers():
    """Factory of DEALER sockets (optionally with a routing id); all closed after."""
    ctx = zmq.Context()
    made = []

    def make(endpoint, routing_id=None):
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        if routing_id is not None:
            s.routing_id = routing_id
        s.connect(endpoint)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
    ctx.term()


def _long_predict(rid: str, seed: int = 0) -> list:
    """64 frames, everything lost, 64 steps: the longest request the LONG server allows."""
    g = np.random.default_rng(seed)
    tok = g.integers(0, Q, (64, *GRID)).astype("<u2")
    return predict_frames(rid=rid, tokens=tok, mask=np.ones_like(tok, np.uint8),
                          params={"steps": 64})


def _recv(sock, timeout_s=30.0):
    assert sock.poll(int(timeout_s * 1000)), "no reply"
    reply = sock.recv_multipart()
    return json.loads(reply[1]), reply[2:]


def _wait_for_log(srv, text: str, timeout_s: float = 10.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = srv.log_text()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged:\n{srv.log_text()[-3000:]}")


# -- temperature -----------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [5e-324, 1e-45, 1e-39, 1.2e-38, 1e-30, 0.5, 10])
def test_every_allowed_temperature_is_served(server, dealers, temperature):
    # Found: any temperature <= 1e-38 answered INTERNAL (logits / T overflowed to NaN).
    sock = dealers(server.endpoint)
    reply, payloads = exchange(sock, predict_frames(params={"temperature": temperature}))
    assert reply["status"] == "ok", reply
    assert len(payloads) == 2


def test_tiny_temperature_samples_the_argmax(tiny_bundle):
    # The sampling distribution is then one-hot: in one step every lost token is the
    # arg-max token, with confidence 1 (its probability under that distribution).
    from gnuradio.tokcom.service.engine import ModelEngine

    eng = ModelEngine.from_bundle(tiny_bundle)
    g = np.random.default_rng(1)
    tok = g.integers(0, Q, (3, *GRID)).astype(np.uint16)
    mask = g.random((3, *GRID)) < 0.5
    argmax = eng.predict(tok, mask, None, steps=1, schedule="arccos", temperature=0.0, seed=0)
    for t in (1e-39, 5e-324):
        tokens, conf = eng.predict(tok, mask, None, steps=1, schedule="arccos",
                                   temperature=t, seed=7)
        assert np.array_equal(tokens, argmax[0])
        assert (conf == 1.0).all()


# -- work limit and fair service -------------------------------------------------------

def test_work_up_to_the_limit_is_served(server, dealers):
    sock = dealers(server.endpoint)
    frames = MAX_WORK // (64 * 64)
    reply, _ = exchange(sock, predict_frames(batch=frames, params={"steps": 64}))
    assert reply["status"] == "ok", reply
    reply, _ = exchange(sock, predict_frames(batch=frames + 1, params={"steps": 64}))
    assert reply["error"]["code"] == "TOO_LARGE" and "work" in reply["error"]["message"]
    assert server.info["limits"]["max_work"] == MAX_WORK


def test_info_is_answered_while_a_long_predict_runs(start_server, dealers):
    # Found: one long predict held the only thread; an info behind it waited for it.
    srv = start_server(extra=LONG)
    sock = dealers(srv.endpoint)
    sock.send_multipart(_long_predict("long"))
    time.sleep(0.05)  # let the predict start
    infos_first = 0
    deadline = time.monotonic() + 60
    while infos_first < 3 and time.monotonic() < deadline:
        sock.send_multipart([b"", json.dumps({"version": 1, "op": "info",
                                              "id": f"i{infos_first}"}).encode()])
        reply, _ = _recv(sock, 60)
        if reply["id"] == "long":
            break  # the info waited behind the predict
        assert reply["status"] == "ok"
        infos_first += 1
    assert infos_first == 3, "info waited behind the predict"
    reply, _ = _recv(sock, 60)
    assert reply["id"] == "long" and reply["status"] == "ok"


def test_resent_request_is_computed_once(start_server, dealers):
    # Found: a client that timed out and resent made the server compute the request again.
    srv = start_server(extra=LONG)
    first, resend, later = (dealers(srv.endpoint) for _ in range(3))
    request = _long_predict("resend-1")
    first.send_multipart(request)
    time.sleep(0.05)
    resend.send_multipart(request)  # same id and bytes, new connection, while it runs
    (a, pa), (b, pb) = _recv(first, 60), _recv(resend, 60)
    assert a["status"] == b["status"] == "ok" and pa == pb
    c, pc = exchange(later, request, 60)  # after the reply: from the cache
    assert c["status"] == "ok" and pc == pa
    other = _long_predict("resend-1", seed=1)  # same id, other request: computed
    d, _ = exchange(later, other, 60)
    assert d["status"] == "ok"
    assert srv.stop() == 0
    assert "predict: 2 computed, 1 joined a running copy, 1 from the reply cache" \
        in srv.log_text(), srv.log_text()[-2000:]


def test_requests_queued_per_connection_are_bounded(start_server, dealers):
    srv = start_server(extra=[*LONG, "--max-message-bytes", "131072",
                              "--max-queued-bytes", "131072"])
    sock = dealers(srv.endpoint)
    n = 12  # ~100 KB each; all sent at once, behind a long first one
    for i in range(n):
        sock.send_multipart(_long_predict(f"q{i}", seed=i))
    codes = {}
    for _ in range(n):
        reply, _ = _recv(sock, 120)
        codes[reply["id"]] = reply["status"] if reply["status"] == "ok" \
            else reply["error"]["code"]
    assert len(codes) == n
    assert codes["q0"] == "ok"
    assert "TOO_LARGE" in codes.values(), codes
    log = _wait_for_log(srv, "bytes of requests waiting")
    assert "request refused" in log


# -- limits while receiving ------------------------------------------------------------

def test_oversize_messages_are_dropped_without_keeping_memory(start_server, dealers):
    # Found: a message of many large frames was copied whole before TOO_LARGE and the
    # memory was kept afterwards.
    limit = 1 << 20
    srv = start_server(extra=["--max-message-bytes", str(limit)])
    sock = dealers(srv.endpoint)
    chunk = b"\x00" * (limit - 4096)  # under the per-frame cap, so libzmq passes it
    head = predict_frames(rid="big")[:2]
    reply, _ = exchange(sock, predict_frames(rid="warm"))  # warm up the reply path
    assert reply["status"] == "ok"
    before = rss_mib(srv.pid)
    for _ in range(4):  # 4 messages of 48 x 1 MB
        reply, _ = exchange(sock, [*head, *[chunk] * 48], 60)
        assert reply["error"]["code"] == "TOO_LARGE" and reply["id"] == "big", reply
    grown_mib = rss_mib(srv.pid) - before
    assert grown_mib < 16, f"RSS grew {grown_mib:.0f} MiB after oversize messages"
    assert "dropped 49 frames" in _wait_for_log(srv, "dropped 49 frames")
    reply, _ = exchange(sock, predict_frames(rid="after"))
    assert reply["status"] == "ok"


# -- connections -----------------------------------------------------------------------

def test_descriptor_exhaustion_is_logged_and_survived(start_server):
    # Found: past the descriptor limit new clients got no reply and nothing was logged.
    srv = start_server(nofile=160)
    log = srv.log_text()
    assert "connections: about 96 at once (descriptor limit 160)" in log, log[-2000:]
    conns = []
    try:
        for _ in range(200):
            conns.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
        _wait_for_log(srv, "accept failed on")
    finally:
        for c in conns:
            c.close()
    assert "Too many open files" in srv.log_text()
    with ServiceClient(srv.endpoint, timeout=10.0, retries=2) as c:
        assert c.info()["grid_h"] == GRID[0]


def test_routing_id_collision(server, dealers):
    # Documented (docs/protocol.md, "Transport"): a second connection with a routing id
    # already in use is refused by libzmq; the first keeps being served.
    a = dealers(server.endpoint, routing_id=b"fixed-id")
    reply, _ = exchange(a, [b"", json.dumps({"version": 1, "op": "info", "id": "a1"}).encode()])
    assert reply["status"] == "ok"
    b = dealers(server.endpoint, routing_id=b"fixed-id")
    b.send_multipart([b"", json.dumps({"version": 1, "op": "info", "id": "b1"}).encode()])
    assert not b.poll(1000), "the second connection with the same routing id was answered"
    reply, _ = exchange(a, [b"", json.dumps({"version": 1, "op": "info", "id": "a2"}).encode()])
    assert reply["id"] == "a2"
