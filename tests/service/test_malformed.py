"""Malformed requests to a real server: each gets the right error code, and it keeps serving."""

import json

import numpy as np
import pytest
import zmq
from svc_wire import (
    GRID,
    MAX_MESSAGE_BYTES,
    MAX_REQUEST_FRAMES,
    MAX_WORK,
    NCLASS,
    Q,
    desc,
    exchange,
    header,
    predict_frames,
)


def _js(obj) -> bytes:
    return json.dumps(obj).encode()


def _with_header(patch=None, drop=()) -> list:
    """A valid predict request whose header got ``patch`` applied and ``drop`` keys removed."""
    frames = predict_frames()
    h = json.loads(frames[1])
    h.update(patch or {})
    for k in drop:
        h.pop(k)
    frames[1] = _js(h)
    return frames


def _tokens(value) -> list:
    tok = np.zeros((1, *GRID), "<u2")
    tok[0, 3, 4] = value
    return predict_frames(tokens=tok)


def _labels(value) -> list:
    return predict_frames(labels=np.array([value], np.int32))


def _params(**p) -> list:
    return predict_frames(params=p)


def _batch(n) -> list:
    return predict_frames(batch=n)


def _nested(depth) -> list:
    return [b"", b"[" * depth + b"]" * depth]


def _truncated() -> list:
    f = predict_frames()
    f[2] = f[2][:-1]
    return f


def _missing_payload() -> list:
    return predict_frames()[:-1]


def _extra_frame() -> list:
    return [*predict_frames(), b"\x00" * 16]


def _oversized() -> list:
    f = predict_frames()
    return [*f[:2], f[2] + b"\x00" * (MAX_MESSAGE_BYTES + 1), f[3]]


def _wrong_dtype() -> list:
    f = predict_frames()
    h = json.loads(f[1])
    h["arrays"][0]["dtype"] = "int32"
    f[1], f[2] = _js(h), np.zeros((1, *GRID), "<i4").tobytes()
    return f


def _wrong_shape() -> list:
    tok = np.zeros((1, GRID[0], GRID[1] - 1), "<u2")
    msk = np.zeros_like(tok, dtype=np.uint8)
    return predict_frames(tokens=tok, mask=msk)


def _swapped_arrays() -> list:
    f = predict_frames()
    h = json.loads(f[1])
    h["arrays"] = h["arrays"][::-1]
    return [f[0], _js(h), f[3], f[2]]


def _bad_mask() -> list:
    msk = np.zeros((1, *GRID), np.uint8)
    msk[0, 0, 0] = 2
    return predict_frames(mask=msk)


def _tokenize_wrong_size() -> list:
    img = np.zeros((1, 27, 28), np.uint8)
    h = header("tokenize", arrays=[desc("images", "uint8", img.shape)])
    return [b"", _js(h), img.tobytes()]


# (case name, frames, expected code, id expected in the reply)
CASES = [
    ("bad JSON", lambda: [b"", b'{"version": 1, "op": '], "BAD_REQUEST", None),
    ("non-UTF-8 header", lambda: [b"", b'{"op": "\xff\xfe"}'], "BAD_REQUEST", None),
    ("header not an object", lambda: [b"", b"[1, 2, 3]"], "BAD_REQUEST", None),
    ("empty message (delimiter only)", lambda: [b""], "BAD_REQUEST", None),
    ("empty header frame", lambda: [b"", b""], "BAD_REQUEST", None),
    ("missing delimiter", lambda: predict_frames()[1:], "BAD_REQUEST", None),
    ("deeply nested JSON", lambda: _nested(20000), "BAD_REQUEST", None),
    ("header over 64 KiB", lambda: [b"", _js({"x": "a" * 70000})], "TOO_LARGE", None),
    ("missing id", lambda: _with_header(drop=["id"]), "BAD_REQUEST", None),
    ("id with bad characters", lambda: _with_header({"id": "a b/c"}), "BAD_REQUEST", None),
    ("id too long", lambda: _with_header({"id": "x" * 65}), "BAD_REQUEST", None),
    ("unsupported version", lambda: _with_header({"version": 3}), "UNSUPPORTED_VERSION",
     "req-1"),
    ("version is a string", lambda: _with_header({"version": "1"}), "BAD_REQUEST", "req-1"),
    ("missing version", lambda: _with_header(drop=["version"]), "BAD_REQUEST", "req-1"),
    ("unknown op", lambda: _with_header({"op": "frobnicate"}), "UNKNOWN_OP", "req-1"),
    ("op not a string", lambda: _with_header({"op": 7}), "BAD_REQUEST", "req-1"),
    ("unknown header key", lambda: _with_header({"priority": 1}), "BAD_REQUEST", "req-1"),
    ("wrong dtype", _wrong_dtype, "BAD_REQUEST", "req-1"),
    ("wrong shape", _wrong_shape, "BAD_REQUEST", "req-1"),
    ("arrays out of order", _swapped_arrays, "BAD_REQUEST", "req-1"),
    ("token == Q", lambda: _tokens(Q), "BAD_REQUEST", "req-1"),
    ("token 65535", lambda: _tokens(65535), "BAD_REQUEST", "req-1"),
    ("mask value 2", _bad_mask, "BAD_REQUEST", "req-1"),
    ("label == nclass", lambda: _labels(NCLASS), "BAD_REQUEST", "req-1"),
    ("label -2", lambda: _labels(-2), "BAD_REQUEST", "req-1"),
    ("steps 0", lambda: _params(steps=0), "BAD_REQUEST", "req-1"),
    ("steps huge", lambda: _params(steps=10**12), "BAD_REQUEST", "req-1"),
    ("steps boolean", lambda: _params(steps=True), "BAD_REQUEST", "req-1"),
    ("steps float", lambda: _params(steps=4.0), "BAD_REQUEST", "req-1"),
    ("unknown schedule", lambda: _params(schedule="linear"), "BAD_REQUEST", "req-1"),
    ("negative temperature", lambda: _params(temperature=-1), "BAD_REQUEST", "req-1"),
    ("NaN temperature (not JSON)",
     lambda: [b"", b'{"version": 1, "op": "predict", "id": "r", "params": {"temperature": NaN}}'],
     "BAD_REQUEST", None),
    ("negative seed", lambda: _params(seed=-1), "BAD_REQUEST", "req-1"),
    ("unknown param", lambda: _params(step=4), "BAD_REQUEST", "req-1"),
    ("params on info", lambda: [b"", _js(header("info", params={"steps": 2}))], "BAD_REQUEST",
     "req-1"),
    ("arrays on info", lambda: [b"", _js(header("info", arrays=[desc("x", "uint8", [1])])),
                                b"\x00"], "BAD_REQUEST", "req-1"),
    ("truncated payload", _truncated, "BAD_REQUEST", "req-1"),
    ("missing payload frame", _missing_payload, "BAD_REQUEST", "req-1"),
    ("extra frame", _extra_frame, "BAD_REQUEST", "req-1"),
    ("batch of 0", lambda: _batch(0), "BAD_REQUEST", "req-1"),
    ("batch over the limit", lambda: _batch(MAX_REQUEST_FRAMES + 1), "TOO_LARGE", "req-1"),
    ("oversized message", _oversized, "TOO_LARGE", "req-1"),
    ("too many frames", lambda: [*predict_frames(), *[b"x"] * 200], "TOO_LARGE", "req-1"),
    ("over the work limit", lambda: predict_frames(batch=MAX_WORK // (64 * 64) + 1,
                                                   params={"steps": 64}), "TOO_LARGE", "req-1"),
    ("duplicate header key",
     lambda: [b"", b'{"version": 1, "op": "info", "id": "a", "id": "b"}'], "BAD_REQUEST", None),
    ("duplicate params key", lambda: [b"", b'{"version": 1, "op": "predict", "id": "a", '
                                           b'"params": {"steps": 1, "steps": 99}}'],
     "BAD_REQUEST", None),
    ("tokenize wrong image size", _tokenize_wrong_size, "BAD_REQUEST", "req-1"),
]


@pytest.mark.parametrize("name,make,code,rid", CASES, ids=[c[0] for c in CASES])
def test_malformed_request_gets_error_reply(raw, name, make, code, rid):
    reply, payloads = exchange(raw, make())
    assert reply["status"] == "error", reply
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    assert reply["id"] == rid
    assert reply["version"] == 1
    assert payloads == []
    if code == "UNSUPPORTED_VERSION":
        assert reply["error"]["supported_versions"] == [1, 2]


def test_server_still_serves_after_the_table(raw, server):
    # The whole table back to back, then a valid request on the same connection.
    for i, (_name, make, code, _rid) in enumerate(CASES):
        reply, _ = exchange(raw, make())
        assert reply["error"]["code"] == code, (i, reply)
    reply, payloads = exchange(raw, predict_frames(rid="after-table"))
    assert reply["status"] == "ok" and reply["id"] == "after-table"
    assert [a["name"] for a in reply["arrays"]] == ["tokens", "confidence"]
    assert len(payloads) == 2
    assert server.proc.poll() is None


def test_req_socket_client(server):
    # A REQ socket adds the empty delimiter itself (docs/protocol.md, "Message layout").
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ)
    sock.linger = 0
    try:
        sock.connect(server.endpoint)
        sock.send_multipart(predict_frames(rid="req-socket")[1:])
        assert sock.poll(10000)
        reply = sock.recv_multipart()
        h = json.loads(reply[0])
        assert h["status"] == "ok" and h["id"] == "req-socket" and len(reply) == 3
    finally:
        sock.close()
        ctx.term()


def test_random_garbage_on_the_wire(raw):
    # Seeded random multipart messages: one reply each, and the server keeps serving.
    g = np.random.default_rng(0)
    for i in range(100):
        n = int(g.integers(1, 5))
        frames = [g.bytes(int(g.integers(0, 40))) for _ in range(n)]
        if i % 2:
            frames[0] = b""  # delimiter first, like a real client: header is garbage
        raw.send_multipart(frames)
        assert raw.poll(10000), frames
        reply = raw.recv_multipart()
        assert json.loads(reply[-1])["status"] == "error", (frames, reply)
    reply, _ = exchange(raw, predict_frames(rid="after-garbage"))
    assert reply["status"] == "ok"
