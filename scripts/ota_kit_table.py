#!/usr/bin/env python3
"""The "Expected PER / TER" table of docs/ota.md: the radio kit over the ZMQ cable with
the simulator's channel, beside tokcom-ota-sim on the same channel.

For each Es/N0: tokcom-rx (realtime, 20 frames, JSON) and tokcom-tx (20 test images,
--cfo 0.002 --sro-ppm 10 --multipath short, 2 frames/s) on a ZMQ cable on 127.0.0.1,
then tokcom-ota-sim --frames 20 with the same channel. Starts its own model service on
127.0.0.1. Every process ends by itself (frame counts, --timeout).
Run: .venv/bin/python scripts/ota_kit_table.py [--esn0 6,7,8] [--images 20]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gnuradio.tokcom.service.launch import start_service, stop_service

BIN = Path(sys.executable).parent
CHANNEL = ["--cfo", "0.002", "--sro-ppm", "10", "--multipath", "short"]


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def kit_point(esn0, images, service, cable):
    rx = subprocess.Popen(
        [str(BIN / "tokcom-rx"), "--radio", cable, "--frames", str(images), "--json",
         "--service", service, "--timeout", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    subprocess.run(
        [str(BIN / "tokcom-tx"), "--radio", cable, "--images", str(images), "--esn0",
         str(esn0), *CHANNEL, "--fps", "2", "--service", service, "--timeout", "300"],
        capture_output=True, text=True, timeout=400, check=True)
    out, _ = rx.communicate(timeout=400)
    return last_json(out)


def sim_point(esn0, frames):
    out = subprocess.run(
        [str(BIN / "tokcom-ota-sim"), "--frames", str(frames), "--esn0", str(esn0),
         *CHANNEL, "--json"], capture_output=True, text=True, timeout=400, check=True)
    return last_json(out.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--esn0", default="6,7,8")
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--port", type=int, default=5593, help="service; the cable uses +1")
    args = p.parse_args()
    service = f"tcp://127.0.0.1:{args.port}"
    cable = f"zmq:tcp://127.0.0.1:{args.port + 1}"
    serve, _, _ = start_service(service)  # returns once the service answers
    try:
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} UTC, load {os.getloadavg()[0]:.1f}; "
              f"{args.images} images per point, channel {' '.join(CHANNEL)}")
        print("| Es/N0 | kit PER | kit TER before → after | kit PSNR VQ-only → predicted "
              "| kit frames predicted | ota-sim PER |\n|---|---|---|---|---|---|")
        for esn0 in (float(e) for e in args.esn0.split(",")):
            k = kit_point(esn0, args.images, service, cable)
            s = sim_point(esn0, args.images)
            print(f"| {esn0:g} dB | {k['per']:.3f} | {k['ter_before']:.3f} → "
                  f"{k['ter_after']:.3f} | {k['psnr_received']:.2f} → "
                  f"{k['psnr_predicted']:.2f} dB | {k['frames_predicted']}/"
                  f"{k['frames_decoded']} | {s['per']:.3f} |", flush=True)
    finally:
        stop_service(serve)


if __name__ == "__main__":
    main()
