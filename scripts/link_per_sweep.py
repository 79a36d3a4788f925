#!/usr/bin/env python3
"""PER vs Es/N0 of the coded link (the real GNU Radio blocks) beside the NumPy oracle.

Writes docs/link_per.csv and docs/link_per.png and prints a Markdown table for
docs/link.md. Packets per point: until MIN_ERRORS errors or MAX_PACKETS packets.
Run: .venv/bin/python scripts/link_per_sweep.py   (about 5 minutes on 2 cores)
"""

import argparse
import csv
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import link_oracle as oracle  # noqa: E402

from gnuradio.tokcom.link_sim import run_link  # noqa: E402

MIN_ERRORS = 200
CHUNK = 20000


def measure(fn, max_packets):
    """Accumulates (errors, packets) from fn(n, seed) in chunks."""
    errors = packets = seed = 0
    while errors < MIN_ERRORS and packets < max_packets:
        e, n = fn(CHUNK, seed)
        errors, packets, seed = errors + e, packets + n, seed + 1
    return errors, packets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snrs", default="5,6,7,8,9,10,11")
    parser.add_argument("--max-packets", type=int, default=400000)
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    snrs = [float(s) for s in args.snrs.split(",")]
    rows = []
    for code, ocode in (("cc_k7", "k7"), ("cc_k3", "k3")):
        for esn0 in snrs:
            t0 = time.time()

            def chain(n, seed, esn0=esn0, code=code):
                r = run_link(esn0, n, code=code, seed=1000 + seed)
                return r.packet_errors, r.packets

            def ref(n, seed, esn0=esn0, ocode=ocode):
                o = oracle.simulate(esn0, n, code=ocode, n_bits=56, seed=2000 + seed)
                return o["packet_errors"], o["packets"]

            ce, cn = measure(chain, args.max_packets)
            oe, on = measure(ref, args.max_packets)
            row = dict(code=code, esn0_db=esn0, chain_errors=ce, chain_packets=cn,
                       oracle_errors=oe, oracle_packets=on)
            for name, e, n in (("chain", ce, cn), ("oracle", oe, on)):
                lo, hi = oracle.wilson_interval(e, n)
                row.update({f"{name}_per": e / n, f"{name}_lo": lo, f"{name}_hi": hi})
            rows.append(row)
            print(f"{code} {esn0:4.1f} dB: chain {ce}/{cn}, oracle {oe}/{on} "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr)

    out = Path(args.out)
    with open(out / "link_per.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for code, color in (("cc_k7", "C0"), ("cc_k3", "C1")):
        sel = [r for r in rows if r["code"] == code]
        x = [r["esn0_db"] for r in sel]
        for name, style in (("chain", "o-"), ("oracle", "x--")):
            y = [r[f"{name}_per"] or float("nan") for r in sel]
            err = [[r[f"{name}_per"] - r[f"{name}_lo"] for r in sel],
                   [r[f"{name}_hi"] - r[f"{name}_per"] for r in sel]]
            label = f"{code} {'GNU Radio chain' if name == 'chain' else 'NumPy oracle'}"
            ax.errorbar(x, y, yerr=err, fmt=style, color=color, capsize=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("Es/N0 (dB)")
    ax.set_ylabel("packet error rate")
    ax.set_title("4-token packets (40 bits + CRC-16), Gray 16-QAM, AWGN")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "link_per.png", dpi=120)

    print("| code | Es/N0 dB | GNU Radio chain PER [95 % CI] (errors/packets) "
          "| oracle PER [95 % CI] (errors/packets) |")
    print("|---|---|---|---|")
    for r in rows:
        cells = []
        for name in ("chain", "oracle"):
            cells.append(f"{r[f'{name}_per']:.2e} [{r[f'{name}_lo']:.2e}, {r[f'{name}_hi']:.2e}] "
                         f"({r[f'{name}_errors']}/{r[f'{name}_packets']})")
        print(f"| {r['code']} | {r['esn0_db']:.0f} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
