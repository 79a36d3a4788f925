"""The client against a real server: every op, invariants of predict, futures, batching."""

import subprocess
import sys
import threading

import numpy as np
import pytest
from svc_wire import GRID, IMAGE, NCLASS, Q

from gnuradio.tokcom.service import ServiceBusy, ServiceClient, ServiceError


def _random_case(g, batch=1, loss=0.3):
    tokens = g.integers(0, Q, (batch, *GRID)).astype(np.uint16)
    mask = g.random((batch, *GRID)) < loss
    return tokens, mask


def test_info_describes_the_model(client):
    info = client.info()
    assert (info["grid_h"], info["grid_w"]) == GRID
    assert info["codebook_size"] == Q and info["num_classes"] == NCLASS
    assert 0 <= info["fill_token"] < Q
    assert (info["image_height"], info["image_width"], info["image_channels"]) == (*IMAGE, 1)
    assert info["defaults"]["schedule"] in info["schedules"]
    assert info["versions"] == [1, 2] and info["model_id"]


def test_tokenize_detokenize_shapes(client):
    g = np.random.default_rng(1)
    images = g.integers(0, 256, (3, *IMAGE), dtype=np.uint8)
    tokens = client.tokenize(images)
    assert tokens.shape == (3, *GRID) and tokens.dtype == np.uint16 and tokens.max() < Q
    assert np.array_equal(client.tokenize(images[:, :, :, None]), tokens)  # (B, H, W, 1)
    single = client.tokenize(images[0])
    assert np.array_equal(single, tokens[0])
    out = client.detokenize(tokens)
    assert out.shape == (3, *IMAGE) and out.dtype == np.uint8
    assert client.detokenize(tokens[1]).shape == IMAGE


def test_received_tokens_never_change(client):
    g = np.random.default_rng(2)
    for loss in (0.0, 0.1, 0.5, 0.9, 1.0):
        tokens, mask = _random_case(g, batch=2, loss=loss)
        for kw in ({}, {"temperature": 1.5, "seed": 3}, {"steps": 1, "schedule": "cosine"}):
            r = client.predict(tokens, mask, labels=[1, -1], **kw)
            assert r.tokens.dtype == np.uint16 and r.confidence.dtype == np.float32
            assert np.array_equal(r.tokens[~mask], tokens[~mask])
            assert np.all(r.confidence[~mask] == 1.0)
            assert r.tokens.max() < Q


def test_seeded_predict_is_deterministic(client):
    g = np.random.default_rng(3)
    tokens, mask = _random_case(g, batch=2, loss=0.6)
    a = client.predict(tokens, mask, temperature=1.0, seed=11)
    b = client.predict(tokens, mask, temperature=1.0, seed=11)
    assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.confidence, b.confidence)
    c = client.predict(tokens, mask, temperature=1.0, seed=12)
    assert not np.array_equal(a.tokens, c.tokens)  # the seed is really used
    d = client.predict(tokens, mask)
    e = client.predict(tokens, mask)
    assert np.array_equal(d.tokens, e.tokens)


def test_server_errors_raise_service_error(client):
    tokens, mask = _random_case(np.random.default_rng(4))
    with pytest.raises(ServiceError) as err:
        client.predict(tokens, mask, steps=0)
    assert err.value.code == "BAD_REQUEST"
    with pytest.raises(ServiceError) as err:
        client.predict(np.full((1, *GRID), Q, np.uint16), mask)
    assert err.value.code == "BAD_REQUEST"
    with pytest.raises(ValueError):  # caught before sending: mask shape
        client.predict(tokens, mask[:, :4])
    assert client.info()["codebook_size"] == Q  # and the connection is still fine


def test_concurrent_clients_are_batched_and_routed(server):
    # Several clients at once: each reply must belong to its own request (routing by
    # identity + id), and some predicts must have shared a batch.
    g = np.random.default_rng(5)
    n_clients, per_client = 4, 6
    cases = [[_random_case(g, loss=0.4) for _ in range(per_client)] for _ in range(n_clients)]
    results: dict = {}

    def worker(k):
        with ServiceClient(server.endpoint, timeout=10.0, retries=1) as c:
            futs = [c.submit_predict(t, m) for t, m in cases[k]]
            results[k] = [f.result(timeout=30) for f in futs]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == list(range(n_clients))
    batch_sizes = []
    for k in range(n_clients):
        for (tokens, mask), r in zip(cases[k], results[k], strict=True):
            assert np.array_equal(r.tokens[~mask], tokens[~mask])
            batch_sizes.append(r.batch_frames)
    assert max(batch_sizes) > 1, batch_sizes


def test_async_outstanding_bound(server):
    tokens, mask = _random_case(np.random.default_rng(6))
    with ServiceClient(server.endpoint, timeout=10.0, retries=0, max_outstanding=2) as c:
        futs = [c.submit_predict(tokens, mask, steps=8) for _ in range(2)]
        try:
            with pytest.raises(ServiceBusy):
                for _ in range(50):  # at least one of these finds both slots taken
                    futs.append(c.submit_predict(tokens, mask, block=False))
        finally:
            for f in futs:
                f.result(timeout=30)


def test_client_import_is_torch_free():
    code = ("import sys; import gnuradio.tokcom.service as s; s.ServiceClient; "
            "import gnuradio.tokcom.service.client, gnuradio.tokcom.service.protocol; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
