#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""QA of the over-the-air burst PHY (docs/ota.md): format, TX -> impairments -> RX for
each impairment alone and all together, a bad header, noise only, and the IQ file round
trip. Seeded and short: each case is a few bursts at a high Es/N0, where any sync
failure shows as a lost frame."""

import os
import tempfile

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest, tokcom

from gnuradio.tokcom.message_collector import post, post_done
from gnuradio.tokcom.ota_sim import SimConfig, run_noise_only, run_ota


def assert_clean(test, result, frames):
    test.assertEqual(result["frames_decoded"], frames, result)
    test.assertEqual(result["missed_bursts"], 0)
    test.assertEqual(result["false_frames"], 0)
    test.assertEqual(result["header_failures"], 0)
    test.assertEqual(result["label_errors"], 0)
    test.assertEqual(result["packets_undetected"], 0)
    test.assertEqual(result["packets_ok"], frames * 64)


class qa_ota_format(gr_unittest.TestCase):
    def test_header_round_trip_and_layout(self):
        fmt = tokcom.ota_burst_format(2, 0.35, 31)
        h = tokcom.ota_header()
        h.frame_id, h.n_packets, h.label = 513, 64, 3
        h.modulation = tokcom.ota_burst_format.id_of(tokcom.ota_burst_format.modulations(),
                                                     "16qam")
        h.tokens_per_packet, h.token_bits = 4, 10
        got = tokcom.ota_burst_format.decode_header(tokcom.ota_burst_format.header_symbols(h))
        self.assertTrue(got == h)
        n = fmt.burst_symbols(64)
        self.assertEqual(n, 128 + 100 + 64 * 31 + 4 * fmt.pilot_groups(64))
        self.assertEqual(len(fmt.modulate(fmt.burst(h, [1 + 0j] * (64 * 31)))),
                         fmt.burst_samples(64))
        self.assertAlmostEqual(fmt.channel_uses(64), fmt.burst_samples(64) / 2)

    def test_tx_bursts_have_sob_eob_and_only_samples(self):
        tb = gr.top_block()
        tx = tokcom.ota_tx(40, gap_samples=10)
        sink = blocks.vector_sink_c()
        tb.connect(tx, sink)
        from gnuradio.tokcom.ota_sim import _tx_pdus, sent_payloads
        cfg = SimConfig(frames=2)
        # Packets, then "done": the message-fed source finishes once it has put out what
        # its packets made, so the run ends by itself with the two bursts.
        post(tx.link.source, "in", _tx_pdus(cfg, sent_payloads(cfg)))
        post_done(tx.link.source)
        tb.run()
        self.assertEqual(len(sink.data()), 2 * (tx.format.burst_samples(64) + 10))
        tags = [(t.offset, pmt.symbol_to_string(t.key)) for t in sink.tags()]
        n = tx.format.burst_samples(64)
        self.assertEqual(tags, [(0, "tx_sob"), (n - 1, "tx_eob"), (n + 10, "tx_sob"),
                                (2 * n + 9, "tx_eob")])
        x = np.array(sink.data())
        self.assertTrue(np.all(x[n:n + 10] == 0))
        self.assertLess(abs(x[0]), 1e-3)  # ramp


class qa_ota_sync(gr_unittest.TestCase):
    """Each impairment alone and all together, 3 bursts at Es/N0 14 dB."""

    def run_case(self, **impairments):
        cfg = SimConfig(frames=3, esn0=14.0, seed=5, **impairments)
        assert_clean(self, run_ota(cfg), 3)

    def test_random_phase_and_delay(self):
        self.run_case()

    def test_cfo_positive(self):
        self.run_case(cfo=0.01)

    def test_cfo_negative(self):
        self.run_case(cfo=-0.01)

    def test_sro(self):
        self.run_case(sro_ppm=20.0)
        self.run_case(sro_ppm=-20.0)

    def test_multipath_short(self):
        self.run_case(multipath="short")

    def test_amplitude(self):
        self.run_case(amplitude=0.01)
        self.run_case(amplitude=10.0)

    def test_all_together(self):
        self.run_case(cfo=-0.008, sro_ppm=20.0, multipath="short", amplitude=0.05)


class qa_ota_files(gr_unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.iq = os.path.join(self.dir.name, "burst.iq")

    def tearDown(self):
        self.dir.cleanup()

    def test_iq_file_round_trip(self):
        cfg = SimConfig(frames=3, esn0=14.0, cfo=0.005, multipath="short", seed=2)
        live = run_ota(cfg, iq_out=self.iq)
        assert_clean(self, live, 3)
        samples = os.path.getsize(self.iq) // 8
        replay = run_ota(cfg, iq_in=self.iq)
        self.assertEqual(replay["samples"], samples)
        assert_clean(self, replay, 3)
        self.assertEqual(live["decoded_frame_ids"], replay["decoded_frame_ids"])
        self.assertEqual(live["packets_ok"], replay["packets_ok"])

    def test_bad_header_is_counted_and_dropped(self):
        cfg = SimConfig(frames=3, esn0=20.0, seed=3, random_jitter=False)
        run_ota(cfg, iq_out=self.iq)
        x = np.fromfile(self.iq, np.complex64)
        fmt = tokcom.ota_burst_format(2, 0.35, 31)
        # The second burst's header (symbols 128 ... 231) drowned in strong noise.
        start = cfg.lead + fmt.burst_samples(64) + cfg.gap
        rng = np.random.default_rng(0)
        a, b = start + 2 * 140, start + 2 * 220
        x[a:b] = (rng.normal(size=b - a) + 1j * rng.normal(size=b - a)) * 3
        x.astype(np.complex64).tofile(self.iq)
        result = run_ota(cfg, iq_in=self.iq)
        self.assertEqual(result["header_failures"], 1)
        self.assertEqual(result["decoded_frame_ids"], [0, 2])
        self.assertEqual(result["false_frames"], 0)
        self.assertEqual(result["packets_ok"], 2 * 64)

    def test_zeros_and_garbage_do_not_wedge(self):
        x = np.concatenate([np.zeros(20000), np.full(5000, 1e30), np.ones(20000)])
        x.astype(np.complex64).tofile(self.iq)
        cfg = SimConfig(frames=0)
        result = run_ota(cfg, iq_in=self.iq)
        self.assertEqual(result["frames_decoded"], 0)
        self.assertEqual(result["false_frames"], 0)


class qa_ota_noise(gr_unittest.TestCase):
    def test_noise_only_gives_no_frames(self):
        for amplitude in (0.01, 1.0, 100.0):
            result = run_noise_only(SimConfig(amplitude=amplitude, seed=9), 300_000)
            self.assertEqual(result["false_frames"], 0)
            self.assertEqual(result["header_failures"], 0)


if __name__ == "__main__":
    import unittest

    unittest.main()
