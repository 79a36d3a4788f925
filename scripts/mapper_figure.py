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
    print("| PSNR (dB) | " + " | ".join(s for s in uncoded.SCHEMES if s != "uncoded_random")
          + " |")
    gains = uncoded.equal_psnr_gains(rows)
    for i, p in enumerate(next(iter(gains.values()))):
        print(f"| {p[0]} | " + " | ".join(f"{g[i][1]:.2f}" for g in gains.values()) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
