"""Tests of the link oracle itself (tests/link_oracle.py), against theory and brute force."""

import itertools
import math

import link_oracle as lo
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CODED = ["k7", "k3"]
ALL_CODES = [*CODED, "none"]


def _all_points():
    """The 16 constellation points and their labels, straight from the 38.211 formula."""
    labels = np.array(list(itertools.product([0, 1], repeat=4)), np.uint8)
    return labels, lo.modulate(labels)[:, 0]


def test_constellation_unit_energy_and_gray():
    labels, pts = _all_points()
    assert np.mean(np.abs(pts) ** 2) == pytest.approx(1.0)
    assert len(set(np.round(pts, 12))) == 16
    # Gray: every pair of nearest neighbours differs in exactly one bit.
    d = np.abs(pts[:, None] - pts[None, :])
    dmin = 2 / math.sqrt(10)
    for i, j in zip(*np.nonzero(np.isclose(d, dmin)), strict=True):
        assert np.sum(labels[i] != labels[j]) == 1


def test_constellation_3gpp_examples():
    # 38.211 Table 5.1.3 corner cases: 0000 -> (1+1j)/sqrt10, 1111 -> (-3-3j)/sqrt10.
    got = lo.modulate(np.array([[0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0]], np.uint8))[0]
    assert np.allclose(got * math.sqrt(10), [1 + 1j, -3 - 3j, 3 + 1j])


def test_demap_matches_brute_force():
    labels, pts = _all_points()
    rng = np.random.default_rng(3)
    y = (rng.standard_normal((5, 40)) + 1j * rng.standard_normal((5, 40))) * 0.7
    n0 = 0.3
    d = np.abs(y[..., None] - pts) ** 2  # (5, 40, 16)
    want = np.stack(
        [
            (d[..., labels[:, k] == 0].min(-1) - d[..., labels[:, k] == 1].min(-1)) / n0
            for k in range(4)
        ],
        axis=-1,
    ).reshape(5, -1)
    assert np.allclose(lo.demap(y, n0), want)


@pytest.mark.parametrize(("code", "first"), [("k7", "11101111000111"), ("k3", "110111")])
def test_impulse_response(code, first):
    # A single 1 yields the generators' taps interleaved; its weight is the free distance.
    out = lo.encode(np.array([[1, 0, 0]], np.uint8), code)[0]
    assert "".join(map(str, out[: len(first)])) == first
    assert out.sum() == {"k7": 10, "k3": 5}[code]


@settings(max_examples=25, deadline=None)
@given(code=st.sampled_from(ALL_CODES), length=st.integers(1, 70), seed=st.integers(0, 2**31))
def test_noiseless_roundtrip(code, length, seed):
    bits = np.random.default_rng(seed).integers(0, 2, (7, length), dtype=np.uint8)
    coded = lo.encode(bits, code)
    k = lo.CODES[code][0]
    assert coded.shape == (7, length if code == "none" else 2 * (length + k - 1))
    assert np.array_equal(lo.viterbi(4.0 * coded - 2.0, code), bits)


@pytest.mark.parametrize(("code", "strength"), [("k7", 8.0), ("k3", 3.0)])
def test_single_confident_flip_is_corrected(code, strength):
    # All coded bits have |LLR| = 1; one is flipped with |LLR| = strength. The best
    # competing path differs in >= d_free bits, so it wins only if strength >= d_free - 1.
    bits = np.random.default_rng(5).integers(0, 2, (1, 30), dtype=np.uint8)
    coded = lo.encode(bits, code)
    n = coded.shape[1]
    llrs = np.repeat(2.0 * coded - 1.0, n, axis=0)  # one row per flipped position
    llrs[np.arange(n), np.arange(n)] *= -strength
    assert np.array_equal(lo.viterbi(llrs, code), np.repeat(bits, n, axis=0))


@pytest.mark.parametrize("code", CODED)
def test_viterbi_is_maximum_likelihood(code):
    # Exhaustive max-correlation decoding over all 2^L messages must agree with Viterbi.
    length = 6
    msgs = np.array(list(itertools.product([0, 1], repeat=length)), np.uint8)
    book = 2.0 * lo.encode(msgs, code) - 1.0
    rng = np.random.default_rng(11)
    truth = msgs[rng.integers(0, len(msgs), 300)]
    llrs = (2.0 * lo.encode(truth, code) - 1.0) + rng.standard_normal((300, book.shape[1])) * 1.2
    best = msgs[np.argmax(llrs @ book.T, axis=1)]
    assert np.array_equal(lo.viterbi(llrs, code), best)


@pytest.mark.parametrize("esn0_db", [6.0, 10.0, 14.0])
def test_uncoded_ber_matches_theory(esn0_db):
    # Hard decisions on the max-log LLRs are the exact Gray 16-QAM detector. The seed makes
    # this deterministic; a 99.9 % interval (not 95 %) keeps it robust to an innocent change
    # of random stream, while a 3 dB or labelling mistake is still far outside it.
    r = lo.simulate(esn0_db, 3600, code="none", n_bits=56, seed=1)
    lo_, hi = lo.wilson_interval(r["bit_errors"], r["bits"], z=3.29)
    assert r["bits"] >= 200_000
    assert lo_ <= lo.ber_16qam_gray(esn0_db) <= hi


def test_ber_theory_by_numerical_integration():
    # Integrate the Gaussian density over the per-dimension decision regions of each bit
    # (levels 1 and 3, by symmetry) instead of using the Q-function algebra.
    esn0_db = 3.0
    sigma = math.sqrt(10 ** (-esn0_db / 10) / 2) * math.sqrt(10)  # in units of 1/sqrt(10)
    y = np.linspace(-30, 30, 600_001)
    dy = y[1] - y[0]
    err = 0.0
    for a in (1.0, 3.0):
        pdf = np.exp(-((y - a) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
        sign_wrong = y < 0
        amp_wrong = (np.abs(y) > 2) if a == 1.0 else (np.abs(y) < 2)
        err += (pdf[sign_wrong].sum() + pdf[amp_wrong].sum()) * dy
    assert lo.ber_16qam_gray(esn0_db) == pytest.approx(err / 4, rel=1e-4)


def test_per_decreases_with_snr():
    pers = [lo.simulate(s, 2000, code="k7", seed=2)["packet_errors"] for s in (4.0, 6.0, 8.0)]
    assert pers[0] > pers[1] > pers[2]


def test_k7_beats_k3():
    k7 = lo.simulate(6.0, 3000, code="k7", seed=4)
    k3 = lo.simulate(6.0, 3000, code="k3", seed=4)
    a = lo.wilson_interval(k7["packet_errors"], k7["packets"])
    b = lo.wilson_interval(k3["packet_errors"], k3["packets"])
    assert a[1] < b[0]


def test_noiseless_link_and_counts():
    r = lo.simulate(60.0, 500, code="k7", n_bits=40, batch=128)
    assert r == {"packets": 500, "packet_errors": 0, "bit_errors": 0, "bits": 20000}


def test_deterministic_with_seed():
    a = lo.simulate(5.0, 700, code="k3", seed=9, batch=300)
    assert a == lo.simulate(5.0, 700, code="k3", seed=9, batch=300)
    assert a != lo.simulate(5.0, 700, code="k3", seed=10, batch=300)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (5, 100), (300, 1000)])
def test_wilson_interval(k, n):
    lo_, hi = lo.wilson_interval(k, n)
    assert 0.0 <= lo_ <= k / n <= hi <= 1.0
    # Known value: 5/100 -> [0.0215, 0.1118] (Wilson 1927 / standard tables).
    if (k, n) == (5, 100):
        assert (lo_, hi) == (pytest.approx(0.02154, abs=1e-4), pytest.approx(0.11175, abs=1e-4))
