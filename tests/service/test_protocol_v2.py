"""Protocol version 2: predict with channel bit LLRs and top-k candidates; version-1
requests and clients keep working unchanged (docs/protocol.md, "Version 2")."""

import json

import numpy as np
import pytest
from svc_wire import GRID, Q, desc, exchange, header, predict_frames

from gnuradio.tokcom.service import ServiceClient

N = GRID[0] * GRID[1]
BITS = (Q - 1).bit_length()


def v2_frames(tokens, mask, llrs, params=None, version=2, llr_dtype="float32"):
    arrays = [desc("tokens", "uint16", tokens.shape), desc("mask", "uint8", mask.shape),
              desc("llrs", llr_dtype, llrs.shape)]
    h = header("predict", "v2-1", version=version, arrays=arrays, params=params)
    return [b"", json.dumps(h).encode(), tokens.astype("<u2").tobytes(),
            mask.astype(np.uint8).tobytes(), llrs.astype("<f4").tobytes()]


def llrs_for(tokens, scale):
    bits = (tokens.reshape(tokens.shape[0], N, 1) >> np.arange(BITS - 1, -1, -1)) & 1
    return ((2 * bits - 1) * scale).astype(np.float32)


def test_v1_request_gets_a_v1_reply(raw):
    reply, payloads = exchange(raw, predict_frames())
    assert reply["status"] == "ok" and reply["version"] == 1
    assert [a["name"] for a in reply["arrays"]] == ["tokens", "confidence"]


def test_info_lists_both_versions_and_the_llr_weight(client):
    info = client.info()
    assert info["versions"] == [1, 2]
    assert info["defaults"]["llr_weight"] > 0


def test_v2_llrs_steer_masked_tokens_and_received_ones_never_change(raw):
    g = np.random.default_rng(0)
    tokens = g.integers(0, Q, (2, *GRID)).astype(np.uint16)
    mask = g.random((2, *GRID)) < 0.5
    truth = g.integers(0, Q, (2, *GRID)).astype(np.uint16)
    llrs = llrs_for(truth, 40.0)  # also at received positions, pointing elsewhere
    reply, payloads = exchange(raw, v2_frames(tokens, mask, llrs))
    assert reply["status"] == "ok", reply
    assert reply["version"] == 2
    out = np.frombuffer(payloads[0], "<u2").reshape(2, *GRID)
    np.testing.assert_array_equal(out[~mask], tokens[~mask])
    np.testing.assert_array_equal(out[mask], truth[mask])


def test_client_sends_v2_only_with_llrs_and_returns_candidates(client):
    g = np.random.default_rng(1)
    tokens = g.integers(0, Q, GRID).astype(np.uint16)
    mask = g.random(GRID) < 0.4
    plain = client.predict(tokens, mask)
    assert plain.candidates is None
    zero = client.predict(tokens, mask, llrs=np.zeros((N, BITS), np.float32), candidates=4)
    np.testing.assert_array_equal(zero.tokens, plain.tokens)  # no information, no change
    assert zero.candidates.shape == (N, 4) and zero.candidate_logp.shape == (N, 4)
    m = mask.ravel()
    np.testing.assert_array_equal(zero.candidates[m, 0], zero.tokens.ravel()[m])
    assert (np.diff(zero.candidate_logp[m], axis=1) <= 0).all()


@pytest.mark.parametrize("case,make,message", [
    ("llrs in a v1 request",
     lambda t, m, llr: v2_frames(t, m, llr, version=1), "version 2"),
    ("llrs of the wrong width",
     lambda t, m, llr: v2_frames(t, m, llr[..., :3]), "llrs: shape"),
    ("llrs not float32",
     lambda t, m, llr: v2_frames(t, m, llr.astype(np.uint8), llr_dtype="uint8"), "float32"),
    ("NaN llrs",
     lambda t, m, llr: v2_frames(t, m, np.full_like(llr, np.nan)), "finite"),
    ("v2 params in a v1 request",
     lambda t, m, llr: predict_frames(params={"llr_weight": 1.0}), "unknown params"),
    ("too many candidates",
     lambda t, m, llr: v2_frames(t, m, llr, {"candidates": 99}), "candidates"),
    ("negative llr weight",
     lambda t, m, llr: v2_frames(t, m, llr, {"llr_weight": -1}), "llr_weight"),
])
def test_bad_v2_requests_are_refused(raw, case, make, message):
    t = np.zeros((1, *GRID), np.uint16)
    m = np.ones((1, *GRID), np.uint8)
    reply, _ = exchange(raw, make(t, m, np.zeros((1, N, BITS), np.float32)))
    assert reply["status"] == "error", case
    assert reply["error"]["code"] == "BAD_REQUEST", case
    assert message in reply["error"]["message"], (case, reply)


def test_v1_and_v2_requests_share_a_batch(server):
    # Concurrent requests with and without LLRs: each gets its own answer.
    g = np.random.default_rng(2)
    tokens = g.integers(0, Q, (4, *GRID)).astype(np.uint16)
    mask = np.ones((4, *GRID), bool)
    truth = g.integers(0, Q, (4, *GRID)).astype(np.uint16)
    with ServiceClient(server.endpoint, timeout=10.0) as c:
        futs = [c.submit_predict(tokens[i], mask[i], llrs=llrs_for(truth[i:i + 1], 40.0)[0]
                                 if i % 2 else None) for i in range(4)]
        res = [f.result(30) for f in futs]
        alone = c.predict(tokens[0], mask[0])
    for i in (1, 3):
        np.testing.assert_array_equal(res[i].tokens, truth[i])
    assert max(r.batch_frames for r in res) > 1  # they did share (batch window 2 ms)
    np.testing.assert_array_equal(res[0].tokens, alone.tokens)
