"""Batch planning and the batch window, in-process (no server)."""

import numpy as np

from gnuradio.tokcom.service.batching import BatchWindow, PendingPredict, plan_batches
from gnuradio.tokcom.service.validation import Request


def _pending(frames=1, steps=8, schedule="arccos", temperature=0.0, ident=b"a", rid="r",
             arrived=0.0):
    req = Request("predict", rid, {"tokens": np.zeros((frames, 2, 2), np.uint16)},
                  {"steps": steps, "schedule": schedule, "temperature": temperature, "seed": 0})
    return PendingPredict([ident, b""], req, arrived)


def test_compatible_requests_share_batches_up_to_max():
    p = [_pending(rid=str(i)) for i in range(5)] + [_pending(frames=3, rid="big")]
    batches = plan_batches(p, max_batch=4)
    assert [[x.request.request_id for x in b] for b in batches] == [
        ["0", "1", "2", "3"], ["4", "big"]]


def test_incompatible_and_sampling_requests_are_separated():
    p = [_pending(rid="a"), _pending(steps=4, rid="b"), _pending(schedule="cosine", rid="c"),
         _pending(rid="d"), _pending(temperature=1.0, rid="e"), _pending(temperature=1.0,
                                                                         rid="f")]
    ids = sorted(sorted(x.request.request_id for x in b) for b in plan_batches(p, 16))
    assert ids == [["a", "d"], ["b"], ["c"], ["e"], ["f"]]


def test_oversized_request_runs_alone():
    batches = plan_batches([_pending(frames=20, rid="x"), _pending(rid="y")], max_batch=8)
    assert [[x.request.request_id for x in b] for b in batches] == [["x"], ["y"]]


def test_window_waits_only_for_other_active_clients():
    now = [100.0]
    w = BatchWindow(window=0.002, max_batch=16, clock=lambda: now[0])
    w.seen(b"a")
    assert w.wait_seconds([_pending(ident=b"a", arrived=100.0)]) == 0.0  # lone client
    w.seen(b"b")
    left = w.wait_seconds([_pending(ident=b"a", arrived=100.0)])
    assert 0 < left <= 0.002  # b was active: wait a little for it
    both = [_pending(ident=b"a", arrived=100.0), _pending(ident=b"b", arrived=100.0)]
    assert w.wait_seconds(both) == 0.0  # everyone is in
    now[0] = 100.003
    assert w.wait_seconds([_pending(ident=b"a", arrived=100.0)]) == 0.0  # window over
    now[0] = 102.0
    assert w.wait_seconds([_pending(ident=b"a", arrived=102.0)]) == 0.0  # b went quiet
    off = BatchWindow(window=0.002, max_batch=1, clock=lambda: now[0])
    off.seen(b"x")
    off.seen(b"y")
    assert off.wait_seconds([_pending(ident=b"x", arrived=102.0)]) == 0.0
