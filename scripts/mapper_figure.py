#!/usr/bin/env python3
"""docs/mapper.png and the equal-PSNR Es/N0 gains from one or more tokcom-sweep CSVs of
the uncoded schemes (a point measured in several runs: the first CSV given wins).

    .venv/bin/python scripts/mapper_figure.py OUT.png RUN1/sweep.csv [RUN2/sweep.csv ...]
"""

import sys

from gnuradio.tokcom.sweep import summary, uncoded


def main(argv):
    out, paths = argv[0], argv[1:]
    rows, seen = [], set()
    for path in paths:
        for r in summary.read_csv(path):
            key = (r["scheme"], r["esn0_db"])
            if r["scheme"] in uncoded.SCHEMES and key not in seen:
                seen.add(key)
                rows.append(r)
    counts = sorted({int(r["images"]) for r in rows})
    uncoded.figure(rows, out, "held-out Fashion-MNIST test images: "
                   + " / ".join(str(c) for c in counts) + " per point")
    print(summary.markdown_table(sorted(rows, key=lambda r: (r["esn0_db"], r["scheme"]))))
    for reference in ("uncoded_random", "coded_keep_random"):
        gains = {k: v for k, v in uncoded.equal_psnr_gains(rows, reference).items()
                 if any(r["scheme"] == k for r in rows)}
        if not gains or not any(r["scheme"] == reference for r in rows):
            continue
        print(f"\nEs/N0 saved against {reference} at equal PSNR (dB):\n")
        print("| PSNR (dB) | " + " | ".join(gains) + " |")
        print("|---" * (len(gains) + 1) + "|")
        for i, (psnr, _) in enumerate(next(iter(gains.values()))):
            print(f"| {psnr} | " + " | ".join(f"{g[i][1]:.2f}" for g in gains.values()) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
