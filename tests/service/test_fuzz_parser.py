"""Fuzz the request parser in-process: any bytes give a Request or a ProtocolError."""

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from svc_wire import GRID, NCLASS, Q

from gnuradio.tokcom.service.errors import ProtocolError
from gnuradio.tokcom.service.protocol import ERROR_CODES, request_frames
from gnuradio.tokcom.service.validation import Limits, ModelSpec, Request, parse_request

SPEC = ModelSpec(model_id="fuzz", grid_h=GRID[0], grid_w=GRID[1], codebook_size=Q,
                 num_classes=NCLASS, image_height=28, image_width=28, image_channels=1,
                 default_steps=8, default_schedule="arccos", default_temperature=0.0,
                 default_seed=0, schedules=("cosine", "arccos"),
                 limits=Limits(max_request_frames=4, max_message_bytes=64 * 1024))

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# Huge integers are valid JSON but overflow float conversions.
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.sampled_from([10**400, -10**400, 2**63, 2**64, -1]),
                         st.floats(allow_nan=False), st.text(max_size=12))
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4)
                           | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=12)


def check(frames) -> None:
    try:
        req = parse_request(frames, SPEC)
    except ProtocolError as exc:
        assert exc.code in ERROR_CODES
        assert isinstance(exc.message, str) and exc.message
        return
    # Whatever got through must satisfy every promise the server relies on.
    assert isinstance(req, Request)
    if req.op == "predict":
        tok, mask = req.arrays["tokens"], req.arrays["mask"]
        assert tok.shape[1:] == GRID and 1 <= tok.shape[0] <= 4
        assert mask.dtype == np.bool_ and mask.shape == tok.shape
        assert int(tok.max()) < Q
        assert 1 <= req.params["steps"] <= SPEC.limits.max_steps
        lab = req.arrays.get("labels")
        assert lab is None or (lab.min() >= -1 and lab.max() < NCLASS)


@FUZZ
@given(st.lists(st.binary(max_size=64), max_size=5))
def test_raw_frames(frames):
    check(frames)


def _mutate(frames, data) -> list:
    """Structured mutations of a valid predict request: fields, sizes, frame counts."""
    header = json.loads(frames[0])
    choice = data.draw(st.integers(0, 6))
    if choice == 0:  # replace one header field by an arbitrary JSON value
        key = data.draw(st.sampled_from(["version", "op", "id", "arrays", "params", "extra"]))
        header[key] = data.draw(json_values)
    elif choice == 1:  # replace one field of one array descriptor
        d = header["arrays"][data.draw(st.integers(0, len(header["arrays"]) - 1))]
        d[data.draw(st.sampled_from(["name", "dtype", "shape"]))] = data.draw(json_values)
    elif choice == 2:  # arbitrary shape of plausible integers
        d = header["arrays"][data.draw(st.integers(0, len(header["arrays"]) - 1))]
        d["shape"] = data.draw(st.lists(st.integers(-1, 10), max_size=4))
    elif choice == 3:  # arbitrary params
        header["params"] = data.draw(st.dictionaries(
            st.sampled_from(["steps", "schedule", "temperature", "seed", "x"]), json_values,
            max_size=4))
    elif choice == 4:  # cut or grow one payload frame
        i = data.draw(st.integers(1, len(frames) - 1))
        n = data.draw(st.integers(-len(frames[i]), 8))
        frames[i] = frames[i][:n] if n < 0 else frames[i] + b"\x01" * n
    elif choice == 5:  # drop or duplicate a frame
        i = data.draw(st.integers(1, len(frames) - 1))
        frames = frames[:i] + frames[i + 1:] if data.draw(st.booleans()) else frames + [frames[i]]
    else:  # random payload bytes of the right length (token values, mask values)
        i = data.draw(st.integers(1, len(frames) - 1))
        frames[i] = data.draw(st.binary(min_size=len(frames[i]), max_size=len(frames[i])))
    return [json.dumps(header).encode(), *frames[1:]]


@FUZZ
@given(st.data())
def test_mutated_valid_requests(data):
    b = data.draw(st.integers(1, 3))
    g = np.random.default_rng(data.draw(st.integers(0, 1000)))
    arrays = [("tokens", "uint16", g.integers(0, Q, (b, *GRID))),
              ("mask", "uint8", g.random((b, *GRID)) < 0.5)]
    if data.draw(st.booleans()):
        arrays.append(("labels", "int32", g.integers(-1, NCLASS, b)))
    frames = [bytes(f) for f in request_frames("predict", "fuzz-1", arrays, {"steps": 2})]
    check(frames)  # the unmutated request parses
    check(_mutate(frames, data))


def test_valid_request_parses_with_defaults():
    tok = np.arange(64, dtype=np.uint16).reshape(1, *GRID) % Q
    frames = [bytes(f) for f in request_frames(
        "predict", "ok-1", [("tokens", "uint16", tok), ("mask", "bool", tok % 2 == 0)])]
    req = parse_request(frames, SPEC)
    assert req.request_id == "ok-1" and req.frames == 1
    assert req.params == {"steps": 8, "schedule": "arccos", "temperature": 0.0, "seed": 0,
                          "llr_weight": 1.0, "candidates": 0}
    assert np.array_equal(req.arrays["tokens"], tok)


def test_huge_integers_are_bad_requests():
    tok = np.zeros((1, *GRID), np.uint16)
    for params in ({"temperature": 10**400}, {"steps": 10**400}, {"seed": 10**400}):
        frames = [bytes(f) for f in request_frames(
            "predict", "big-1", [("tokens", "uint16", tok), ("mask", "uint8", tok)], params)]
        try:
            parse_request(frames, SPEC)
        except ProtocolError as exc:
            assert exc.code == "BAD_REQUEST"
        else:
            raise AssertionError(f"{params} accepted")
