#!/usr/bin/env python3
"""Throughput of the coded token link: coded_link_tx -> loopback_channel -> coded_link_rx.

Token packets of the TokCom paper (4 tokens x 10 bits = 40 payload bits, CRC-16, Gray
16-QAM) at Es/N0 = 8 dB, posted as PDUs with at most 2048 in flight; the received packets
are counted, not checked. Prints decoded info bit/s and packets/s for K=7 (gr-fec) and
K=3 (gr-trellis), best of --repeat runs, each with and without the soft output of failed
packets (coded_link_rx soft_output=True: BCJR posteriors of CRC-failed packets only).
Run: .venv/bin/python benchmarks/bench_link.py
"""

import argparse
import os
import platform
import time

# Per-block work time needs GNU Radio's performance counters, read at import time.
os.environ.setdefault("GR_CONF_PERFCOUNTERS_ON", "True")

from gnuradio import gr  # noqa: E402

from gnuradio.tokcom.link_sim import run_link  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--esn0", type=float, default=8.0)
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, GNU Radio {gr.version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, Es/N0 {args.esn0} dB, {args.packets} packets")
    print(f"{'code':<7} {'soft':<5} {'packets/s':>10} {'info Mbit/s':>12} {'PER':>9}")
    for code in ("cc_k7", "cc_k3"):
        for soft in (False, True):
            best = None
            for i in range(args.repeat):
                r = run_link(args.esn0, args.packets, code=code, seed=i, check=False,
                             soft_output=soft)
                if best is None or r.seconds < best.seconds:
                    best = r
            rate = best.packets / best.seconds
            print(f"{code:<7} {'yes' if soft else 'no':<5} {rate:>10,.0f} "
                  f"{rate * 40 / 1e6:>12.2f} {best.per:>9.2e}", flush=True)


if __name__ == "__main__":
    main()
