"""End to end: images -> tokens -> coded link -> masked frames -> MaskGIT over the service.

Runs examples/loopback_sim.py's flowgraph against a real tokcom-serve process on
127.0.0.1 with the bundled default model.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pmt
import pytest
from gnuradio import blocks

from gnuradio.tokcom.models import default_model_dir
from gnuradio.tokcom.service.launch import start_service as start_local_service

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
from loopback_sim import loopback_sim  # noqa: E402

pytestmark = pytest.mark.skipif(not (default_model_dir() / "config.json").exists(),
                                reason="the bundled default model is not in this checkout")


def start_service(endpoint=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc, endpoint, _ = start_local_service(endpoint, extra_args=["--threads", "1"], env=env)
    return proc, endpoint


@pytest.fixture
def service():
    proc, endpoint = start_service()
    yield proc, endpoint
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def test_prediction_lowers_the_token_error_rate(service, tmp_path):
    _, endpoint = service
    tb = loopback_sim(esn0_db=5.8, n_frames=12, service=endpoint, output_dir=str(tmp_path),
                      use_label=1, seed=3)
    tb.run()
    t = tb.sink.totals()
    per = tb.rx.packets_failed() / tb.rx.packets_out()
    assert 0.1 < per < 0.45, per  # PER 20-40 % region (docs/link.md)
    assert t["frames"] == 12 and t["predicted"] == 12
    assert tb.sink.counts["frames_in"] == tb.sink.counts["frames_out"] == 12
    assert t["ter_after"] < t["ter_before"], t
    assert t["psnr_predicted"] > t["psnr_received"], t
    assert len(list(tmp_path.glob("frame_*.png"))) == 12


def test_killing_the_service_mid_run_still_yields_every_frame(service):
    proc, endpoint = service
    tb = loopback_sim(esn0_db=6.0, n_frames=24, service=endpoint, output_dir="", use_label=1,
                      seed=4)
    tb.source.period = 1 / 8.0  # 3 s of frames, so the kill lands in the middle
    tb.source.timeout_s = 2.0  # the source gives up soon after the service is gone
    killer = threading.Timer(1.2, lambda: os.kill(proc.pid, signal.SIGKILL))
    killer.start()
    done = threading.Event()
    runner = threading.Thread(target=lambda: (tb.run(), done.set()), daemon=True)
    runner.start()
    runner.join(timeout=120)
    killer.cancel()
    assert done.is_set(), "the flowgraph did not end"
    counts = tb.sink.counts
    produced = tb.source.frames_out
    assert 0 < produced <= 24
    assert counts["frames_in"] == counts["frames_out"] == produced, (counts, produced)
    assert counts["predicted"] >= 1


def test_demo_prints_the_table_and_writes_pictures(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--frames", "4",
                             "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines()
            if line.strip() and line.split()[0].replace(".", "").isdigit()]
    assert [float(r[0]) for r in rows] == [6.8, 5.8, 5.0], result.stdout
    assert all(int(r[1]) == 4 for r in rows)
    for name in ("results.csv", "results.png", "grid_5.8dB.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_prediction_resumes_when_the_service_comes_back(service):
    proc, endpoint = service
    tb = loopback_sim(esn0_db=5.8, n_frames=64, service=endpoint, output_dir="", use_label=1,
                      seed=5)
    tb.source.period = 1 / 8.0  # 8 s of frames; the service is down from 1 s to about 9 s
    tb.source.timeout_s = 6.0  # the source's tokenize waits the outage out
    statuses = {}

    def restart():
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(5.0)  # longer than the sink's 2 tries x 2 s: some frames must fail
        restarted.append(start_service(endpoint)[0])

    restarted = []
    bounce = threading.Timer(1.0, restart)
    bounce.start()
    record = blocks.message_debug()
    tb.msg_connect(tb.sink, "metrics", record, "store")
    tb.run()
    bounce.join()
    for i in range(record.num_messages()):
        m = pmt.to_python(record.get_message(i))
        statuses[m["frame_id"]] = m["prediction"]
    try:
        counts = tb.sink.counts
        assert counts["frames_in"] == counts["frames_out"] == tb.source.frames_out
        order = "".join(statuses.get(f, "-")[0] for f in range(64))  # o = ok, s = failed
        first_failure = order.find("s")
        assert first_failure > 0, order  # frames sent while it was down went out flagged
        assert "o" in order[first_failure:], order  # and prediction came back
    finally:
        for p in restarted:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)
