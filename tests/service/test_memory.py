"""Server memory stays bounded under over-the-air-like traffic (issue #14).

Every request has its own number of lost tokens and of frames, so nearly every one has a
new matrix shape; the server's RSS grew with every new shape (oneDNN / ideep primitive
caches) before.  The bundled model, because the growth depends on its matrix sizes.
The long version is benchmarks/soak_service.py.
"""

import numpy as np
from svc_wire import rss_mib

from gnuradio.tokcom.models import default_model_dir
from gnuradio.tokcom.service import ServiceClient

WARMUP, REQUESTS = 30, 90


def test_rss_flat_over_requests_of_changing_shapes(start_server):
    srv = start_server(extra=["--model", str(default_model_dir()), "--precision", "float32"])
    g = np.random.default_rng(0)
    rss = {}
    with ServiceClient(srv.endpoint, timeout=60.0, retries=0) as c:
        for i in range(1, REQUESTS + 1):
            b = int(g.integers(1, 3))
            tokens = g.integers(0, 1024, (b, 16, 16)).astype(np.uint16)
            c.predict(tokens, g.random((b, 16, 16)) < g.uniform(0.02, 0.6), steps=4)
            if i in (WARMUP, REQUESTS):
                rss[i] = rss_mib(srv.pid)
    growth = rss[REQUESTS] / rss[WARMUP] - 1
    assert growth <= 0.15, f"RSS {rss[WARMUP]:.0f} -> {rss[REQUESTS]:.0f} MiB ({growth:+.0%})"
