#!/usr/bin/env python3
"""Throughput of the coded token link: coded_link_tx -> loopback_channel -> coded_link_rx.

Token packets of the TokCom paper (4 tokens x 10 bits = 40 payload bits, CRC-16, Gray
16-QAM) at Es/N0 = 8 dB, posted as PDUs with at most 2048 in flight; the received packets
are counted, not checked. Prints decoded info bit/s and packets/s for K=7 (gr-fec) and
K=3 (gr-trellis), each with and without the soft output of failed packets (coded_link_rx
soft_output=True: BCJR posteriors of CRC-failed packets only); --repeat interleaved rounds,
best and median.
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
          f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}, "
          f"Es/N0 {args.esn0} dB, {args.packets} packets")
    configs = [(code, soft) for code in ("cc_k7", "cc_k3") for soft in (False, True)]
    # Interleaved (every configuration once per round): the machine's load drifts, and
    # back-to-back runs of one configuration would compare different moments.
    runs = {c: [] for c in configs}
    for i in range(args.repeat):
        for code, soft in configs:
            runs[code, soft].append(run_link(args.esn0, args.packets, code=code, seed=i,
                                             check=False, soft_output=soft))
    print(f"{'code':<7} {'soft':<5} {'packets/s':>10} {'info Mbit/s':>12} "
          f"{'median Mbit/s':>14} {'PER':>9}")
    for (code, soft), rs in runs.items():
        rates = sorted(r.packets / r.seconds for r in rs)
        best, median = rates[-1], rates[len(rates) // 2]
        per = sum(r.packet_errors for r in rs) / sum(r.packets for r in rs)
        print(f"{code:<7} {'yes' if soft else 'no':<5} {best:>10,.0f} "
              f"{best * 40 / 1e6:>12.2f} {median * 40 / 1e6:>14.2f} {per:>9.2e}")
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")

if __name__ == "__main__":
    main()
