"""kill -9 of the server mid-stream, restart on the same port: every request answered once."""

import signal
import threading
import time

import numpy as np
from svc_wire import GRID, Q

from gnuradio.tokcom.service import ServiceClient

N_REQUESTS = 30
PACE_S = 0.02  # spread the stream so the kill lands in the middle of it


def test_kill_and_restart_every_request_answered_once(start_server):
    first = start_server()
    g = np.random.default_rng(0)
    cases = [(g.integers(0, Q, (1, *GRID)).astype(np.uint16), g.random((1, *GRID)) < 0.3)
             for _ in range(N_REQUESTS)]
    futures = []
    callbacks = [0] * N_REQUESTS
    lock = threading.Lock()

    def count(i):
        def done(_f):
            with lock:
                callbacks[i] += 1
        return done

    client = ServiceClient(first.endpoint, timeout=1.0, retries=40, max_outstanding=4)

    def submit_all():
        for i, (tok, mask) in enumerate(cases):
            f = client.submit_predict(tok, mask, steps=4)
            f.add_done_callback(count(i))
            futures.append(f)
            time.sleep(PACE_S)

    submitter = threading.Thread(target=submit_all)
    try:
        submitter.start()
        deadline = time.monotonic() + 30
        while sum(f.done() for f in list(futures)) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        assert first.proc.wait(10) == -signal.SIGKILL
        answered_before = sum(f.done() for f in list(futures))
        assert answered_before < N_REQUESTS, "the kill came too late to test anything"

        start_server(port=first.port, wait=False)  # same endpoint; the client reconnects
        submitter.join(60)
        assert not submitter.is_alive()
        results = [f.result(timeout=60) for f in futures]
    finally:
        client.close()

    assert len(results) == N_REQUESTS
    for (tok, mask), r in zip(cases, results, strict=True):
        # Right reply for each request (same id across resends), received tokens intact.
        assert np.array_equal(r.tokens[~mask], tok[~mask])
    assert callbacks == [1] * N_REQUESTS  # each future resolved exactly once
    assert client.reconnects >= 1
