"""The Qt GUI receiver (examples/ota_rx_gui.grc) runs without a display.

Xvfb is not needed: Qt's offscreen platform (QT_QPA_PLATFORM=offscreen) draws the
widgets into memory. scripts/ota_rx_gui_check.py starts the grcc-generated flowgraph
(test_examples.py checks it is what grcc makes of the .grc), a model service and
tokcom-tx on a ZMQ cable on 127.0.0.1, waits (bounded) until the frame image panel has
shown the frames, grabs the window and reports what each display took."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gnuradio.tokcom.models import default_model_dir

ROOT = Path(__file__).resolve().parent.parent
SERVICE_PORT, CABLE_PORT = 5685, 5686  # this test's ports (5680-5699 are the GUI's)

needs_model = pytest.mark.skipif(not (default_model_dir() / "config.json").exists(),
                                 reason="the bundled default model is not in this checkout")


@needs_model
def test_gui_receiver_shows_frames_headless(grc_env, tmp_path):
    n, refs = 4, 3  # the last frame has no reference: black original, no TER
    shot = tmp_path / "ota_rx_gui.png"
    env = dict(grc_env, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path),
               HOME=str(tmp_path))  # Qt's runtime dir and the window's QSettings
    env.pop("DISPLAY", None)  # headless even where a display exists
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "ota_rx_gui_check.py"),
         "--start-service", str(SERVICE_PORT), "--radio", f"zmq:tcp://127.0.0.1:{CABLE_PORT}",
         "--frames", str(n), "--references", str(refs), "--tx-images", str(n),
         "--tx-args", "--esn0 12 --fps 10",
         "--screenshot", str(shot), "--timeout", "60"],
        env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["tx_returncode"] == 0, r.get("tx_stderr")
    assert r["frames_shown"] == r["frames_evaluated"] == n and r["bursts"] == n
    assert r["picture_shape"] == [28, 3 * 28]  # original | received | predicted
    assert r["frames_without_reference"] == n - refs
    assert r["per"] < 0.05  # Es/N0 12 dB
    # the widget shows the panel's lines: the newest frame and the running totals
    assert r["widget_frame_line"] == r["frame_line"] and "/64 packets lost" in r["frame_line"]
    frame_id = int(r["frame_line"].split()[1].rstrip(",:"))
    has_reference = frame_id < refs  # the newest frame is usually n - 1 (no reference)
    assert r["has_original"] == has_reference and ("TER" in r["frame_line"]) == has_reference
    assert r["widget_totals_line"] == r["totals_line"]
    assert r["totals_line"].startswith(f"{n} frames") and "PER" in r["totals_line"]
    # the constellation sink got the equalised payload symbols, the power display its
    # values; the spectrum's freq_sink takes its first chunk only after a set-up call
    assert r["constellation_items"] > 0 and r["power_items"] > 0 and r["samples"] > 0
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("L"))
    assert img.shape == (950, 1500)
    assert img.std() > 10  # a drawn window, not a blank one
