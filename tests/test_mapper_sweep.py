"""Semantic labeling in tokcom-sweep: the uncoded schemes through the installed command
(a mini sweep), and the designer's channel model and swap gains."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from gnuradio.tokcom.models import default_model_dir
from gnuradio.tokcom.sweep.summary import COLUMNS
from gnuradio.tokcom.sweep.uncoded import token_reliability
from gnuradio.tokcom.training.label_design import (
    SwitchingDesigner,
    expected_distortion,
    qam16_transitions,
    token_transitions,
)

UNCODED = ["uncoded_natural", "uncoded_random", "uncoded_semantic", "uncoded_semantic_predict"]


def test_qam16_model_gives_the_gray_bit_error_rate():
    # docs/link.md: uncoded Gray 16-QAM BER at 14 dB is 0.009376 (exact expression)
    p = qam16_transitions(14.0)
    assert np.allclose(p.sum(1), 1.0)
    flips = np.array([[bin(a ^ b).count("1") for b in range(16)] for a in range(16)])
    assert abs((p * flips).sum(1).mean() / 4 - 0.009376) < 2e-6


def test_token_model_straddles_symbols_as_the_packet_does():
    t = token_transitions(14.0)
    assert t.shape == (1024, 1024) and np.allclose(t.sum(1), 1.0)
    ber = 0.009376
    # independent-bit estimate 1 - (1 - BER)^10, a little above the correlated truth
    assert abs((1 - np.diag(t).mean()) - (1 - (1 - ber) ** 10)) < 3e-3


def test_swap_gains_are_exact():
    rng = np.random.default_rng(0)
    q = 12
    prior = rng.random(q)
    prior /= prior.sum()
    dist = rng.random((q, q))
    np.fill_diagonal(dist, 0)
    trans = rng.random((q, q))
    trans /= trans.sum(1, keepdims=True)
    labels = rng.permutation(q)
    bsa = SwitchingDesigner(prior, dist, trans, labels)
    base = expected_distortion(labels, prior, dist, trans)
    for a in range(q):
        gains = bsa.swap_gains(a)
        for b in range(q):
            swapped = labels.copy()
            swapped[[a, b]] = swapped[[b, a]]
            assert gains[b] == pytest.approx(
                expected_distortion(swapped, prior, dist, trans) - base, abs=1e-12)
    bsa.run(max_passes=50)
    assert bsa.distortion < base
    assert bsa.distortion == pytest.approx(
        expected_distortion(bsa.labels, prior, dist, trans), rel=1e-12)


def test_token_reliability_is_the_product_of_bit_posteriors():
    llrs = np.zeros((1, 2, 20), np.float32)  # 2 packets of 2 tokens of 10 bits
    llrs[0, 0, :10] = 50.0  # sure
    llrs[0, 1, 10:] = -50.0  # sure (sign does not matter)
    slots = np.array([[3, 0], [1, 2]])
    rel = token_reliability(llrs, slots, 4)
    np.testing.assert_allclose(rel[0], [0.5**10, 0.5**10, 1.0, 1.0], rtol=1e-6)


@pytest.mark.skipif(not (default_model_dir() / "config.json").exists(),
                    reason="the bundled default model is not in this checkout")
def test_mini_uncoded_sweep(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "tokcom-sweep")
    cmd = [sys.executable, exe, "--schemes", ",".join(UNCODED), "--snrs", "14",
           "--images", "8", "--chunk", "8", "--workers", "1", "--no-progress",
           "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(tmp_path / "sweep.csv") as f:
        rows = {r["scheme"]: r for r in csv.DictReader(f)}
    assert list(next(iter(rows.values()))) == COLUMNS
    assert set(rows) == set(UNCODED)
    assert (tmp_path / "mapper.png").stat().st_size > 0
    for r in rows.values():
        assert int(r["images"]) == 8 and int(r["packets"]) == 8 * 64
        # 14 dB, 10-bit tokens: about 10 % of the tokens arrive wrong whatever the labels
        assert 0.04 < float(r["ter_before"]) < 0.2
    nat, rnd, sem, hyb = (rows[s] for s in UNCODED)
    # the designed labels turn the same bit errors into similar tokens
    assert float(sem["psnr"]) > float(rnd["psnr"]) + 3
    assert float(sem["psnr"]) > float(nat["psnr"])
    # the hybrid masks some tokens and never makes the token count wrong
    assert float(hyb["ter_after"]) <= float(hyb["ter_before"])


def test_unknown_scheme_is_refused(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "tokcom-sweep")
    proc = subprocess.run([sys.executable, exe, "--schemes", "uncoded_bogus", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "unknown scheme" in proc.stderr


def test_designer_command_writes_the_bundle_file(tmp_path):
    """tokcom-design-labels on a tiny random bundle (Q = 64, 6-bit tokens): deterministic,
    a permutation, named in config.json, and better than its random start."""
    import json

    from gnuradio.tokcom.labeling import bundle_label_file, read_labels
    from gnuradio.tokcom.service.random_bundle import write_random_bundle
    from gnuradio.tokcom.training.label_design import main

    bundle = write_random_bundle(tmp_path / "b", "tiny")
    args = ["--model", str(bundle), "--prior-images", "0", "--esn0", "10"]
    assert main(args) == 0
    first, meta = read_labels(bundle_label_file(bundle))
    assert sorted(first.tolist()) == list(range(64))
    assert json.loads((bundle / "config.json").read_text())["labeling"]["design_esn0_db"] == 10
    designed, start = (float(v) for v in
                       meta["expected_distortion"].replace("(random start", "")
                       .replace(",", "").split()[:2])
    assert designed < start
    assert main(args) == 0
    np.testing.assert_array_equal(read_labels(bundle_label_file(bundle))[0], first)
