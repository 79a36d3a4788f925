#!/usr/bin/env python3
"""Throughput of token_packetizer -> token_depacketizer (message ports, no channel).

Prints tokens/s and packets/s for the paper geometry (16x16 tokens, Q = 1024, K = 4)
and a larger one. Frames are posted with a bounded number in flight, so no message
queue overflows. Run: .venv/bin/python benchmarks/bench_packetizer.py
"""

import argparse
import platform
import time

import numpy as np
from gnuradio import gr, tokcom

from gnuradio.tokcom import Frame, make_frame_pdu
from gnuradio.tokcom.message_collector import message_collector, post_paced

MAX_IN_FLIGHT = 32  # frames; x 64 packets stays far below the 8192-message queue limit


def measure(grid, q, k, n_frames, interleaver="random"):
    rng = np.random.default_rng(0)
    pdus = [make_frame_pdu(Frame(rng.integers(0, q, grid, dtype=np.uint16), i, q))
            for i in range(n_frames)]
    tb = gr.top_block()
    pack = tokcom.token_packetizer(k, interleaver, 1)
    unpack = tokcom.token_depacketizer(grid[0], grid[1], q, k, interleaver, 1, 0.0)
    sink = message_collector()
    tb.msg_connect(pack, "out", unpack, "in")
    tb.msg_connect(unpack, "out", sink, "in")
    tb.start()
    start = time.perf_counter()
    post_paced(pack, "in", pdus, sink, MAX_IN_FLIGHT, 60.0)
    complete = sink.wait_for(n_frames, 60.0)
    elapsed = time.perf_counter() - start
    tb.stop()
    tb.wait()
    if not complete:
        raise RuntimeError(f"{sink.count} of {n_frames} frames came out")
    n_tokens = n_frames * grid[0] * grid[1]
    return n_tokens / elapsed, pack.packets_out() / elapsed, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    args = parser.parse_args()
    print(f"# {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"GNU Radio {gr.version()}, {time.strftime('%Y-%m-%d')}")
    print(f"{'geometry':<28} {'frames':>7} {'tokens/s':>12} {'packets/s':>12} {'time s':>8}")
    for grid, q, k in [((16, 16), 1024, 4), ((32, 32), 1024, 16), ((16, 16), 65536, 1)]:
        tokens_s, packets_s, elapsed = measure(grid, q, k, args.frames)
        name = f"{grid[0]}x{grid[1]}, Q={q}, K={k}"
        print(f"{name:<28} {args.frames:>7} {tokens_s:>12,.0f} {packets_s:>12,.0f} {elapsed:>8.2f}")


if __name__ == "__main__":
    main()
