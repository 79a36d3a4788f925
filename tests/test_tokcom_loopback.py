"""End to end: images -> tokens -> coded link -> masked frames -> MaskGIT over the service.

Runs the TokCom loopback flowgraph (gnuradio.tokcom.loopback_flowgraph, the one the demo
and the sweep build) against a real tokcom-serve process on 127.0.0.1 with the bundled
default model.
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

from gnuradio.tokcom.frame_pictures import parse_images_pdu
from gnuradio.tokcom.loopback_flowgraph import LoopbackConfig, build_loopback
from gnuradio.tokcom.models import default_model_dir
from gnuradio.tokcom.service.launch import start_service as start_local_service

ROOT = Path(__file__).resolve().parent.parent

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
    cfg = LoopbackConfig(service=endpoint, esn0_db=5.8, n_frames=12, channel_seed=3,
                         output_dir=str(tmp_path))
    tb = build_loopback(cfg)
    tb.run_to_completion()
    t = tb.evaluator.totals("tokcom_cmi")
    assert 0.1 < tb.per() < 0.45, tb.per()  # PER 20-40 % region (docs/link.md)
    # simulation mode: every frame predicted
    assert t["frames"] == 12 and t["predicted"] == 12, t
    counts = tb.predictors["tokcom_cmi"].counts
    assert counts["frames_in"] == counts["frames_out"] == 12
    assert t["ter_after"] < t["ter_before"], t
    assert t["psnr_predicted"] > t["psnr_received"], t
    assert len(list(tmp_path.glob("frame_*.png"))) == 12
    assert len(tb.messages("images")) == 12
    # each images PDU carries its frame's lost-token mask (docs/formats.md, Images PDU)
    masked = {m["frame_id"]: m["n_masked"] for m in map(pmt.to_python, tb.messages("metrics"))}
    for msg in tb.messages("images"):
        meta, images, mask = parse_images_pdu(msg)
        assert meta["has_original"] and images.shape == (3, 28, 28) and mask.shape == (16, 16)
        assert int(mask.sum()) == masked[meta["frame_id"]]
    assert sum(masked.values()) > 0


def _realtime(endpoint, n_frames, frames_per_second, timeout_s, seed):
    """A realtime-mode loopback that never waits long for the service."""
    cfg = LoopbackConfig(service=endpoint, esn0_db=6.0, n_frames=n_frames, channel_seed=seed,
                         mode="realtime", detokenize=False,
                         frames_per_second=frames_per_second, service_timeout_s=timeout_s)
    return build_loopback(cfg)


def _run_until_source_ends(tb, timeout=120):
    """Runs until the source has stopped and every frame it sent has been evaluated."""
    tb.start()
    try:
        assert tb.source.finished.wait(timeout), "the source did not end"
        assert tb.evaluator.wait_for(tb.source.frames_out, timeout), "frames went missing"
    finally:
        tb.stop()
        tb.wait()


def test_killing_the_service_mid_run_still_yields_every_frame(service):
    proc, endpoint = service
    # 3 s of frames; the kill comes once the first frame is through, so it lands in the
    # middle whatever the machine's load; the source gives up soon after.
    tb = _realtime(endpoint, 24, 8.0, 2.0, seed=4)

    def kill():
        if tb.evaluator.wait_for(1, 60):
            os.kill(proc.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    _run_until_source_ends(tb)
    killer.join()
    counts = tb.predictors["tokcom_cmi"].counts
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
    assert all(int(r[1]) == 4 and int(r[2]) == 4 for r in rows), result.stdout  # predicted
    for name in ("results.csv", "results.png", "grid_5.8dB.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_prediction_resumes_when_the_service_comes_back(service):
    proc, endpoint = service
    # 8 s of frames; the service goes down after the first frame, for about 8 s; the
    # source's tokenize (6 s timeout) waits the outage out.
    tb = _realtime(endpoint, 64, 8.0, 2.0, seed=5)
    tb.source.timeout_s = 6.0

    def restart():
        if not tb.evaluator.wait_for(1, 60):  # once the first frame is through
            return
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(5.0)  # longer than the predictor's 2 tries x 2 s: some frames must fail
        restarted.append(start_service(endpoint)[0])

    restarted = []
    bounce = threading.Thread(target=restart, daemon=True)
    bounce.start()
    _run_until_source_ends(tb)
    bounce.join()
    statuses = {}
    for msg in tb.messages("metrics"):
        m = pmt.to_python(msg)
        statuses[m["frame_id"]] = m["prediction"]
    try:
        counts = tb.predictors["tokcom_cmi"].counts
        assert counts["frames_in"] == counts["frames_out"] == tb.source.frames_out
        order = "".join(statuses.get(f, "-")[0] for f in range(64))  # o = ok, s = failed
        first_failure = order.find("s")
        assert first_failure > 0, order  # frames sent while it was down went out flagged
        assert "o" in order[first_failure:], order  # and prediction came back
    finally:
        for p in restarted:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)
