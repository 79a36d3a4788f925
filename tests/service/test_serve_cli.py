"""tokcom-serve command line: signals, load logging, refusal of exposed plain-text binds."""

import itertools
import re
import signal
import time

import pytest

from gnuradio.tokcom.service import ServiceClient, is_loopback_endpoint
from gnuradio.tokcom.service.serve import main as serve_main


def test_sigint_stops_cleanly_and_load_is_logged_at_most_once_per_second(start_server):
    srv = start_server()
    with ServiceClient(srv.endpoint, timeout=5.0, retries=0) as c:
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            c.info()
    srv.send_signal(signal.SIGINT)
    assert srv.proc.wait(15) == 0
    log = srv.log_text()
    assert "SIGINT received" in log and "stopped after" in log
    stamps = [time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1e3
              for m in re.finditer(r"^(\S+ \S+),(\d+) INFO \S+: load: ", log, re.M)]
    assert 2 <= len(stamps) <= 4, log
    assert all(b - a >= 0.99 for a, b in itertools.pairwise(stamps)), stamps


@pytest.mark.parametrize("bind", ["tcp://0.0.0.0:5999", "tcp://*:5999", "tcp://eth0:5999",
                                  "tcp://192.168.1.20:5999"])
def test_exposed_bind_without_curve_is_refused(bind, tiny_bundle, capsys):
    with pytest.raises(SystemExit) as exc:
        serve_main(["--model", str(tiny_bundle), "--bind", bind])
    assert exc.value.code == 2
    assert "without CURVE" in capsys.readouterr().err


def test_loopback_detection():
    for ep in ("tcp://127.0.0.1:5555", "tcp://localhost:1", "tcp://[::1]:5", "tcp://127.3.2.1:9",
               "ipc:///tmp/tokcom.sock", "inproc://x"):
        assert is_loopback_endpoint(ep), ep
    for ep in ("tcp://0.0.0.0:5555", "tcp://*:1", "tcp://10.0.0.1:5", "tcp://example.org:5",
               "udp://127.0.0.1:5", "127.0.0.1:5555", "tcp://127.0.0.1"):
        assert not is_loopback_endpoint(ep), ep


def test_bad_model_dir_fails_without_serving(tmp_path):
    assert serve_main(["--model", str(tmp_path / "nothing"), "--bind", "tcp://127.0.0.1:1"]) == 1
