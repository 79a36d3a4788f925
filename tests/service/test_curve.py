"""CurveZMQ: only clients whose public key is authorised get answers."""

import numpy as np
import pytest
import zmq
from svc_wire import GRID

from gnuradio.tokcom.service import CurveClientKeys, ServiceClient, ServiceTimeout
from gnuradio.tokcom.service.serve import main as serve_main

pytestmark = pytest.mark.skipif(not zmq.has("curve"), reason="libzmq without CURVE")


def test_only_authorised_clients_are_served(start_server, tmp_path):
    server_dir, clients_dir, other_dir = tmp_path / "srv", tmp_path / "clients", tmp_path / "x"
    # The key generator of the command line.
    assert serve_main(["--gen-keys", str(server_dir), "server"]) == 0
    assert serve_main(["--gen-keys", str(clients_dir), "alice"]) == 0
    assert serve_main(["--gen-keys", str(other_dir), "mallory"]) == 0
    assert serve_main(["--gen-keys", str(other_dir), "mallory"]) == 1  # never overwrites
    assert (server_dir / "server.key_secret").stat().st_mode & 0o077 == 0
    # Only public keys go into the authorised directory.
    (clients_dir / "alice.key_secret").rename(tmp_path / "alice.key_secret")

    alice = CurveClientKeys.from_files(tmp_path / "alice.key_secret", server_dir / "server.key")
    mallory = CurveClientKeys.from_files(other_dir / "mallory.key_secret",
                                         server_dir / "server.key")
    srv = start_server(extra=["--curve-secret-key", str(server_dir / "server.key_secret"),
                              "--curve-clients", str(clients_dir)],
                       ready_kwargs={"curve": alice})

    with ServiceClient(srv.endpoint, curve=alice, timeout=5.0, retries=0) as c:
        tok = np.zeros((1, *GRID), np.uint16)
        r = c.predict(tok, np.zeros((1, *GRID), bool))
        assert np.array_equal(r.tokens, tok)

    for keys in (mallory, None):  # an unknown key, and no CURVE at all
        with ServiceClient(srv.endpoint, curve=keys, timeout=0.5, retries=1) as c, \
                pytest.raises(ServiceTimeout):
            c.info()

    with ServiceClient(srv.endpoint, curve=alice, timeout=5.0, retries=0) as c:
        assert c.info()["grid_h"] == GRID[0]  # still serving the authorised client
    # Rejections are logged (socket monitor): the unknown key, and the plain client.
    log = srv.log_text()
    assert "CURVE authentication failed" in log, log[-2000:]
    assert "client handshake failed" in log, log[-2000:]
