#!/usr/bin/env python3
"""Runs examples/ota_rx_gui.py (the Qt GUI receiver) without a display, on Qt's
offscreen platform, until its frame image panel has shown N frames; then optionally
saves a screenshot of the whole window and prints a JSON summary last on stdout.

It can start what the receiver needs: the model service (--start-service PORT) and a
transmitter (--tx-images N: tokcom-tx on the same ZMQ cable, its extra options after
--tx-args). The test tests/test_gui_flowgraph.py runs it; the screenshot in docs/ was
made with

    .venv/bin/python scripts/ota_rx_gui_check.py --start-service 5681 \
        --radio zmq:tcp://127.0.0.1:5682 --frames 8 --tx-images 8 \
        --tx-args="--esn0 6.5 --cfo 0.002 --fps 4" --screenshot docs/ota/ota_rx_gui.png

Every wait is bounded (--timeout); the run ends on counts, not on sleeps.
Exit status 0 when N frames were shown, 1 otherwise.
"""

import argparse
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is loaded

from PyQt5 import Qt  # noqa: E402

from gnuradio.tokcom.service.launch import start_service, stop_service  # noqa: E402


def load_flowgraph_class():
    """The top block class grcc generated (examples/ota_rx_gui.py)."""
    spec = importlib.util.spec_from_file_location("ota_rx_gui", ROOT / "examples" /
                                                  "ota_rx_gui.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ota_rx_gui


def run_gui(args) -> dict:
    app = Qt.QApplication.instance() or Qt.QApplication(["ota_rx_gui"])
    references = args.references if args.references >= 0 else args.frames
    tb = load_flowgraph_class()(radio=args.radio, references=references,
                                service=args.service)
    tb.resize(*args.size)
    tb.start()
    tb.show()
    tx = None
    if args.tx_images:
        tx = subprocess.Popen(
            [sys.executable, str(Path(sys.executable).parent / "tokcom-tx"), "--radio",
             args.radio, "--images", str(args.tx_images), "--service", args.service,
             *shlex.split(args.tx_args)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    result = {"reached": False}

    def poll():
        # pictures and metrics both taken by the panel (they come on two ports)
        shown, counted = tb.panel.frames_shown, tb.panel.state.totals.totals()["frames"]
        if shown >= args.frames and counted >= args.frames:
            result["reached"] = True
            timer.stop()
            # the Qt sinks redraw every 0.1 s: let them draw the last samples once more
            Qt.QTimer.singleShot(args.settle_ms, app.quit)
        elif time.monotonic() - t0 > args.timeout:
            timer.stop()
            app.quit()

    timer = Qt.QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    app.exec_()
    tb.panel.widget().refresh()  # the newest state, whatever signals are still queued
    if args.screenshot and result["reached"]:
        Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
        if not tb.grab().save(str(args.screenshot)):
            raise RuntimeError(f"could not write {args.screenshot}")
        result["screenshot"] = str(args.screenshot)
    tb.stop()
    tb.wait()
    if tx is not None:
        try:
            _, err = tx.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            tx.kill()
            _, err = tx.communicate()
        result["tx_returncode"] = tx.returncode
        if tx.returncode:
            result["tx_stderr"] = err[-2000:]
    picture, has_original, frame_line, totals_line = tb.panel.state.snapshot()
    t = tb.evaluator.totals()
    widget = tb.panel.widget()
    result.update(
        frames_shown=tb.panel.frames_shown, frames_evaluated=tb.evaluator.count,
        frames_predicted=t["predicted"], bursts=tb.rx.bursts_detected(),
        frames_without_reference=tb.evaluator.counts["no_reference"],
        per=t["per"], ter_before=t["ter_before"], ter_after=t["ter_after"],
        picture_shape=None if picture is None else list(picture.shape),
        has_original=has_original, frame_line=frame_line, totals_line=totals_line,
        widget_frame_line=widget.frame_label.text(),
        widget_totals_line=widget.totals_label.text(),
        # what the Qt sinks took: IQ samples, power values, equalised symbols
        samples=tb.radio_source.nitems_written(0), spectrum_items=tb.spectrum.nitems_read(0),
        power_items=tb.power.nitems_read(0),
        constellation_items=tb.constellation.nitems_read(0),
        seconds=round(time.monotonic() - t0, 2))
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--radio", default="zmq:tcp://127.0.0.1:5682")
    p.add_argument("--service", default="tcp://127.0.0.1:5555",
                   help="model service endpoint (ignored with --start-service)")
    p.add_argument("--start-service", type=int, metavar="PORT", default=0,
                   help="start tokcom-serve on 127.0.0.1:PORT for this run")
    p.add_argument("--frames", type=int, default=4, help="frames the panel must show")
    p.add_argument("--references", type=int, default=-1,
                   help="reference test images, frame_id 0 ... (default: --frames)")
    p.add_argument("--tx-images", type=int, default=0,
                   help="also run tokcom-tx on --radio with this many images")
    p.add_argument("--tx-args", default="--esn0 12", help="more tokcom-tx options")
    p.add_argument("--screenshot", default="", help="PNG of the whole window")
    p.add_argument("--size", type=int, nargs=2, default=(1500, 950), metavar=("W", "H"))
    p.add_argument("--settle-ms", type=int, default=600,
                   help="after the last frame, let the Qt sinks redraw this long")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds")
    args = p.parse_args(argv)
    service = None
    if args.start_service:
        service, args.service, _ = start_service(
            f"tcp://127.0.0.1:{args.start_service}", extra_args=["--threads", "1"],
            env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        result = run_gui(args)
    finally:
        if service is not None:
            stop_service(service)
    print(json.dumps(result), flush=True)
    return 0 if result["reached"] else 1


if __name__ == "__main__":
    sys.exit(main())
