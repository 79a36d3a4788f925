#!/usr/bin/env python3
"""The designer's channel model against the link, per labeling (docs/mapper.md):
on held-out test images (tokenized by a running tokcom-serve), the token error rate the
model predicts at an Es/N0, the mean energy of the transmitted 16-QAM symbols (the
uncoded link has no scrambler, so the labels set the symbols), and the model's expected
distortion D.

    .venv/bin/python scripts/mapper_channel_check.py tcp://127.0.0.1:5801 [images] [Es/N0]
"""

import sys

import numpy as np
from gnuradio import tokcom

from gnuradio.tokcom.labeling import load_scheme_labels
from gnuradio.tokcom.link_config import constellation_points
from gnuradio.tokcom.service.client import ServiceClient
from gnuradio.tokcom.sweep.uncoded import LABELINGS, RANDOM_LABEL_SEED
from gnuradio.tokcom.training.fashion_mnist import load_split
from gnuradio.tokcom.training.label_design import (
    codebook_statistics,
    expected_distortion,
    token_transitions,
)


def main(argv):
    service = argv[0]
    n = int(argv[1]) if len(argv) > 1 else 300
    esn0 = float(argv[2]) if len(argv) > 2 else 14.0
    images, _ = load_split("test")
    with ServiceClient(service, timeout=600) as client:
        tokens = np.concatenate([client.tokenize(images[i:i + 50].numpy())
                                 for i in range(0, n, 50)]).reshape(n, -1)
    q = 1024
    prior = np.bincount(tokens.ravel(), minlength=q) / tokens.size
    _, dist = codebook_statistics(None, 0)
    trans = token_transitions(esn0)
    layout = tokcom.token_layout(256, 4, q, "random", 1)
    slots = np.asarray(layout.slot_positions())  # (64, 4)
    points = constellation_points("16qam")
    print(f"{n} test images, Es/N0 {esn0} dB")
    print("| labeling | model TER | mean symbol energy Es | expected distortion D |")
    print("|---|---|---|---|")
    for name in LABELINGS:
        lab = load_scheme_labels(name, q, None, RANDOM_LABEL_SEED).astype(np.int64)
        ter = float(prior @ (1 - np.diag(trans)[lab]))
        sent = lab[tokens[:, slots]]  # (images, 64, 4) labels
        bits = (sent[..., None] >> np.arange(9, -1, -1)) & 1
        sym = bits.reshape(n, 64, 10, 4) @ np.array([8, 4, 2, 1])
        energy = float(np.mean(np.abs(points[sym]) ** 2))
        d = expected_distortion(lab, prior, dist, trans)
        print(f"| {name} | {ter:.4f} | {energy:.4f} | {d:.4g} |")


if __name__ == "__main__":
    main(sys.argv[1:])
