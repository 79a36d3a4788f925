#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""burst_demapper: which N0 scales each packet's LLRs (lib/burst_demapper_impl.cc).

N0 is noise_var when > 0; else the guard estimate (mean |y|^2 of the guard symbols after
each burst, averaged over gaps); before the first guard, and always with guard 0, each
packet's mean squared distance to its nearest points. The bursts here are built so that
every case gives a different, exactly known N0.
"""

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest

from gnuradio.tokcom import burst_demapper
from gnuradio.tokcom.link_config import make_constellation

POINTS = np.array(make_constellation("16qam").points())
BPS = 4
CODED_BITS = 8  # 2 symbols per packet
N_PACKETS = 2  # 4 symbols per burst
OFFSET = 0.05  # received = point + OFFSET: nearest-point N0 = OFFSET^2


def maxlog(y):
    """(min |y-p|^2 over points with bit 0 - over bit 1) per bit, MSB first (no 1/N0)."""
    d = np.abs(y[:, None] - POINTS[None, :]) ** 2
    labels = np.arange(len(POINTS))
    out = []
    for s in range(len(y)):
        for b in range(BPS):
            bit = (labels >> (BPS - 1 - b)) & 1
            out.append(d[s, bit == 0].min() - d[s, bit == 1].min())
    return np.array(out)


def burst(seed):
    labels = np.random.default_rng(seed).integers(0, 16, 2 * N_PACKETS)
    return POINTS[labels] + OFFSET


def guard(n, energy):
    return np.full(n, np.sqrt(energy) + 0j)


def run(pieces, guard_symbols=8, noise_var=0.0, set_to=None):
    """pieces: list of ("burst", samples) / ("gap", samples). Returns (LLRs, block)."""
    samples, tags = [], []
    for kind, x in pieces:
        if kind == "burst":
            tag = gr.tag_t()
            tag.offset = len(samples)
            tag.key = pmt.intern("tokcom_frame")
            tag.value = pmt.to_pmt({"n_packets": N_PACKETS, "frame_id": len(tags)})
            tags.append(tag)
        samples.extend(x.tolist())
    demapper = burst_demapper(make_constellation("16qam"), CODED_BITS, guard_symbols,
                              noise_var, False)
    if set_to is not None:
        demapper.set_noise_var(set_to)
    sink = blocks.vector_sink_f()
    tb = gr.top_block()
    tb.connect(blocks.vector_source_c(samples, False, 1, tags), demapper, sink)
    tb.run()
    return np.array(sink.data()), demapper


class qa_burst_demapper(gr_unittest.TestCase):
    def check_n0(self, llrs, bursts, n0s):
        """LLRs of each packet of each burst equal maxlog / the expected N0."""
        per_packet = CODED_BITS
        self.assertEqual(len(llrs), len(bursts) * N_PACKETS * per_packet)
        i = 0
        for b, n0_of_packet in zip(bursts, n0s, strict=True):
            for p in range(N_PACKETS):
                y = b[2 * p:2 * p + 2]
                expected = maxlog(y) / n0_of_packet[p]
                np.testing.assert_allclose(llrs[i:i + per_packet], expected, rtol=1e-4,
                                           atol=1e-4)
                i += per_packet

    def test_default_guard_estimate_and_first_frame_fallback(self):
        b = [burst(i) for i in range(3)]
        llrs, blk = run([("burst", b[0]), ("gap", guard(8, 0.25)), ("burst", b[1]),
                         ("gap", guard(8, 0.09)), ("burst", b[2]), ("gap", guard(8, 1.0))])
        # Burst 0: no guard yet, nearest-point distance OFFSET^2 per packet; burst 1: the
        # first gap's energy; burst 2: the mean of the first two gaps.
        fallback = OFFSET ** 2
        self.check_n0(llrs, b, [(fallback, fallback), (0.25, 0.25), (0.17, 0.17)])
        self.assertAlmostEqual(blk.noise_var(), 0.17, places=5)

    def test_truncated_guard_uses_the_symbols_it_has(self):
        # guard_symbols 8, but the next burst starts after 3: N0 from those 3 symbols,
        # and the burst is not eaten by the guard.
        b = [burst(10), burst(11)]
        llrs, blk = run([("burst", b[0]), ("gap", guard(3, 0.04)), ("burst", b[1])])
        self.check_n0(llrs, b, [(OFFSET ** 2,) * 2, (0.04, 0.04)])

    def test_guard_zero_uses_nearest_points_for_every_packet(self):
        b = [burst(20), burst(21) + 0.05]  # burst 1 twice as far: offset 0.1
        llrs, blk = run([("burst", b[0]), ("burst", b[1])], guard_symbols=0)
        self.check_n0(llrs, b, [(OFFSET ** 2,) * 2, ((2 * OFFSET) ** 2,) * 2])
        self.assertAlmostEqual(blk.noise_var(), (2 * OFFSET) ** 2, places=6)

    def test_fixed_noise_var_and_set_noise_var_zero(self):
        b = [burst(30), burst(31)]
        pieces = [("burst", b[0]), ("gap", guard(8, 0.25)), ("burst", b[1])]
        llrs, blk = run(pieces, noise_var=0.5)
        self.check_n0(llrs, b, [(0.5, 0.5)] * 2)
        self.assertAlmostEqual(blk.noise_var(), 0.5, places=6)
        # set_noise_var(0) switches a configured block back to estimation ...
        llrs, _ = run(pieces, noise_var=0.5, set_to=0.0)
        self.check_n0(llrs, b, [(OFFSET ** 2,) * 2, (0.25, 0.25)])
        # ... and set_noise_var(x > 0) fixes N0 on an estimating block.
        llrs, _ = run(pieces, set_to=0.3)
        self.check_n0(llrs, b, [(0.3, 0.3)] * 2)

    def test_exact_points_clamp_the_estimate(self):
        # Noiseless symbols give a zero estimate; N0 is clamped to 1e-6 so LLRs stay finite.
        b = [burst(40) - OFFSET]
        llrs, blk = run([("burst", b[0])], guard_symbols=0)
        self.assertAlmostEqual(blk.noise_var(), 1e-6, places=9)
        # maxlog / 1e-6 is far beyond the float output's clip at +-1000.
        expected = np.sign(maxlog(b[0])) * 1000.0
        np.testing.assert_array_equal(llrs, expected)


if __name__ == "__main__":
    gr_unittest.run(qa_burst_demapper)
