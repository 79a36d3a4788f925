#!/usr/bin/env python3
"""Validation of the over-the-air burst PHY (docs/ota.md): PER vs Es/N0 with genie sync
and with the receiver under each impairment alone and all together; the Es/N0 where each
reaches PER 1e-2 and its distance from genie sync; missed and false bursts at the Es/N0
where genie-sync PER is 0.1; noise-only runs.

Run: .venv/bin/python benchmarks/ota_validation.py [--frames 150] [--out docs]
Writes OUT/ota_per.csv and OUT/ota_per.png and prints the tables of docs/ota.md.
"""

import argparse
import csv
import os
import platform
import time

import numpy as np

from gnuradio.tokcom.ota_sim import SimConfig, run_ideal, run_noise_only, run_ota

CONDITIONS = {
    "genie sync (AWGN)": None,
    "random phase + delay": {},
    "CFO +0.01": {"cfo": 0.01},
    "CFO -0.01": {"cfo": -0.01},
    "SRO +20 ppm": {"sro_ppm": 20.0},
    "SRO -20 ppm": {"sro_ppm": -20.0},
    "multipath short": {"multipath": "short"},
    "amplitude 0.01": {"amplitude": 0.01},
    "amplitude 10": {"amplitude": 10.0},
    "all (+)": {"cfo": 0.01, "sro_ppm": 20.0, "multipath": "short", "amplitude": 0.01},
    "all (-)": {"cfo": -0.01, "sro_ppm": -20.0, "multipath": "short", "amplitude": 10.0},
}


def esn0_at(grid, per, target):
    """Es/N0 where PER crosses target, log-linear between the bracketing points."""
    for i in range(len(grid) - 1):
        (e0, p0), (e1, p1) = (grid[i], per[i]), (grid[i + 1], per[i + 1])
        if p0 >= target > p1:
            if p1 <= 0:
                return e1
            w = (np.log10(p0) - np.log10(target)) / (np.log10(p0) - np.log10(p1))
            return e0 + w * (e1 - e0)
    return float("nan")


def run(name, impairments, esn0, frames, seed):
    if impairments is None:
        return run_ideal(SimConfig(frames=frames, esn0=esn0, seed=seed))
    return run_ota(SimConfig(frames=frames, esn0=esn0, seed=seed, **impairments))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150, help="bursts per point")
    parser.add_argument("--grid", default="6,6.5,7,7.5,8,8.5,9,9.5")
    parser.add_argument("--miss-frames", type=int, default=300)
    parser.add_argument("--noise-samples", type=int, default=10_000_000)
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    grid = [float(x) for x in args.grid.split(",")]
    start = time.time()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, "
          f"{args.frames} bursts x 64 packets per point, 16-QAM, K=7, CRC-16, sps 2, RRC 0.35")
    rows, curves = [], {}
    for i, (name, imp) in enumerate(CONDITIONS.items()):
        per = []
        for esn0 in grid:
            r = run(name, imp, esn0, args.frames, seed=100 * i + int(esn0 * 10))
            per.append(r["per"])
            rows.append(dict(condition=name, esn0=esn0, per=r["per"],
                             frames_decoded=r["frames_decoded"], frames=r["frames_sent"],
                             header_failures=r["header_failures"],
                             false_frames=r["false_frames"]))
        curves[name] = per
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ota_per.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    ref = esn0_at(grid, curves["genie sync (AWGN)"], 1e-2)
    print("\n| condition | Es/N0 at PER 1e-2 (dB) | loss vs genie (dB) | PER per Es/N0 "
          f"{grid} |\n|---|---|---|---|")
    for name, per in curves.items():
        e = esn0_at(grid, per, 1e-2)
        print(f"| {name} | {e:.2f} | {e - ref:+.2f} | "
              + " ".join(f"{p:.2g}" for p in per) + " |")

    e_miss = round(esn0_at(grid, curves["genie sync (AWGN)"], 0.1), 1)
    print(f"\nMissed bursts at Es/N0 {e_miss} dB (genie-sync PER 0.1), "
          f"{args.miss_frames} bursts each:\n")
    print("| condition | missed bursts | header failures | false frames | PER |\n"
          "|---|---|---|---|---|")
    for i, (name, imp) in enumerate(CONDITIONS.items()):
        if imp is None:
            continue
        r = run(name, imp, e_miss, args.miss_frames, seed=7000 + i)
        print(f"| {name} | {r['missed_bursts']}/{r['frames_sent']} "
              f"({r['missed_bursts'] / r['frames_sent']:.2%}) | {r['header_failures']} | "
              f"{r['false_frames']} | {r['per']:.3f} |")

    print(f"\nNoise only, {args.noise_samples:.0e} samples:\n")
    print("| noise amplitude | bursts detected | header failures | frames decoded | MS/s |"
          "\n|---|---|---|---|---|")
    for amp in (0.01, 1.0, 10.0):
        r = run_noise_only(SimConfig(amplitude=amp, seed=int(amp * 100) + 1),
                           args.noise_samples)
        print(f"| {amp} | {r['bursts_detected']} | {r['header_failures']} | "
              f"{r['false_frames']} | {r['samples'] / r['seconds'] / 1e6:.1f} |")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 5))
        for name, per in curves.items():
            style = "k-o" if name.startswith("genie") else "-."
            ax.semilogy(grid, np.maximum(per, 1e-5), style, label=name, markersize=3)
        ax.axhline(1e-2, color="grey", lw=0.5)
        ax.set_xlabel("Es/N0 (dB)")
        ax.set_ylabel("packet error rate")
        ax.set_ylim(1e-4, 1)
        ax.grid(True, which="both", lw=0.3)
        ax.legend(fontsize=7)
        ax.set_title("gr-tokcom OTA burst PHY: 16-QAM, K=7, 40-bit packets")
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "ota_per.png"), dpi=110)
    except ImportError:
        print("matplotlib missing: no figure")
    print(f"\n# {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
