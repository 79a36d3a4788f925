#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The coded link blocks: CRC bit-exactness, the scrambler, noiseless round trips, max-log
demapping, filler and malformed packets, channel alignment. (Error rates: tests/test_link_*.py.)"""

import itertools

import numpy as np
import pmt
from gnuradio import blocks, digital, gr, gr_unittest, tokcom

from gnuradio.tokcom.link_config import CRCS, make_constellation
from gnuradio.tokcom.link_sim import packet_pdu
from gnuradio.tokcom.message_collector import message_collector, run_until_count
from gnuradio.tokcom.testing_support import run_stream, run_to_done, spec_crc_bits


def packets(n, payload_bits, seed=0, frame_id=0, n_packets=None):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, (n, payload_bits), dtype=np.uint8)
    pdus = []
    for i in range(n):
        pdu = packet_pdu(frame_id, i, bits[i])
        if n_packets is not None:
            pdu = pmt.cons(pmt.dict_add(pmt.car(pdu), pmt.intern("n_packets"),
                                        pmt.from_uint64(n_packets)), pmt.cdr(pdu))
        pdus.append(pdu)
    return bits, pdus


# IEEE 802.11-2016 17.3.5.5: the 127-bit sequence of the x^7 + x^4 + 1 data scrambler from
# the all-ones initial state, as the standard prints it (leftmost used first).
IEEE_802_11_SCRAMBLER = np.array([int(c) for c in (
    "00001110 11110010 11001001 00000010 00100110 00101110 10110110 00001100 "
    "11010100 11100111 10110100 00101010 11111010 01010001 10111000 1111111").replace(" ", "")],
    np.uint8)


def packet_sequence(pkt_idx, n):
    """docs/formats.md: packet pkt_idx is scrambled with s[(pkt_idx + i) mod 127]."""
    return IEEE_802_11_SCRAMBLER[(pkt_idx + np.arange(n)) % 127]


def source_bits(source, pdus, n_bits):
    return run_stream(source, [(source, "in", p) for p in pdus], n_bits).astype(np.uint8)


class qa_coded_link(gr_unittest.TestCase):
    def test_crc_matches_gr_digital_crc_append(self):
        # Byte-aligned payloads: gr-digital's PDU CRC block with the same parameters.
        for name in ("crc16", "crc32"):
            width, poly = CRCS[name]
            bits, pdus = packets(64, 40, seed=width)
            out = source_bits(tokcom.packet_bits_source(40, width, poly), pdus, 64 * (40 + width))
            ours = out.reshape(64, 40 + width)[:, 40:]
            ref_block = digital.crc_append(width, poly, 0, (1 << width) - 1, False, False, False)
            ref = run_to_done(ref_block, [("in", p) for p in pdus], expected=64)
            for i, msg in enumerate(ref):
                crc_bytes = np.array(pmt.u8vector_elements(pmt.cdr(msg))[5:], np.uint8)
                np.testing.assert_array_equal(ours[i], np.unpackbits(crc_bytes), err_msg=name)

    def test_crc_of_any_width_matches_bit_serial_reference(self):
        for name, payload_bits in itertools.product(("crc8", "crc11", "crc24a"), (40, 30, 7)):
            width, poly = CRCS[name]
            bits, pdus = packets(8, payload_bits, seed=payload_bits, n_packets=8)
            out = source_bits(tokcom.packet_bits_source(payload_bits, width, poly), pdus,
                              8 * (payload_bits + width)).reshape(8, -1)
            for i in range(8):
                np.testing.assert_array_equal(out[i, :payload_bits], bits[i])
                self.assertEqual(out[i, payload_bits:].tolist(),
                                 spec_crc_bits(bits[i], width, poly), (name, payload_bits))

    def test_missing_packets_become_failing_filler_and_malformed_are_dropped(self):
        width, poly = CRCS["crc16"]
        bits, pdus = packets(4, 40, n_packets=4)
        bad = [pmt.PMT_NIL, pmt.cons(pmt.car(pdus[0]), pmt.init_u16vector(1, [0])),
               pmt.cons(pmt.dict_delete(pmt.car(pdus[0]), pmt.intern("n_packets")),
                        pmt.cdr(pdus[0])),
               pmt.cons(pmt.car(pdus[0]), pmt.init_u8vector(2, [0, 0]))]  # too short
        src = tokcom.packet_bits_source(40, width, poly)
        # packet 2 is missing; the next frame's first packet closes frame 0
        _, next_frame = packets(1, 40, frame_id=1, n_packets=4)
        out = source_bits(src, bad + pdus[:2] + pdus[3:] + next_frame, 4 * 56)
        self.assertEqual(src.packets_malformed(), len(bad))
        self.assertEqual(src.packets_filled(), 1)
        filler = out[2 * 56:3 * 56]
        self.assertFalse(filler[:40].any())
        self.assertNotEqual(filler[40:].tolist(), spec_crc_bits(filler[:40], width, poly))

    def test_scrambler_xors_payload_and_crc_with_the_802_11_sequence(self):
        self.assertEqual(len(IEEE_802_11_SCRAMBLER), 127)
        width, poly = CRCS["crc16"]
        for payload_bits, tail in ((40, 0), (40, 2), (97, 2)):
            n_bits = payload_bits + width
            block = n_bits + tail
            _, pdus = packets(8, payload_bits, seed=payload_bits + tail, n_packets=8)
            plain, scrambled = (
                source_bits(tokcom.packet_bits_source(payload_bits, width, poly, tail, s), pdus,
                            8 * block).reshape(8, block) for s in (False, True))
            for i in range(8):  # packet i starts i bits in; the tail bits stay zero
                np.testing.assert_array_equal(plain[i, :n_bits] ^ scrambled[i, :n_bits],
                                              packet_sequence(i, n_bits))
                self.assertFalse(scrambled[i, n_bits:].any())
        # gr-digital's own additive scrambler with the same LFSR parameters agrees.
        ref = blocks.vector_sink_b()
        tb = gr.top_block()
        tb.connect(blocks.vector_source_b([0] * 127), digital.additive_scrambler_bb(0x09, 0x70, 6),
                   ref)
        tb.run()
        np.testing.assert_array_equal(np.array(ref.data(), np.uint8), IEEE_802_11_SCRAMBLER)

    def test_scrambled_filler_still_fails_and_deframer_descrambles(self):
        width, poly = CRCS["crc16"]
        bits, pdus = packets(4, 40, n_packets=4)
        _, next_frame = packets(1, 40, frame_id=1, n_packets=4)
        src = tokcom.packet_bits_source(40, width, poly, 0, True)
        out = source_bits(src, pdus[:2] + pdus[3:] + next_frame, 4 * 56)  # packet 2 missing
        filler = out[2 * 56:3 * 56] ^ packet_sequence(2, 56)
        self.assertFalse(filler[:40].any())
        self.assertNotEqual(filler[40:].tolist(), spec_crc_bits(filler[:40], width, poly))
        meta = pmt.to_pmt({"n_packets": 4, "frame_id": 0})
        for scramble, expect in ((True, [True, True, False, True]), (False, [False] * 4)):
            deframer = tokcom.packet_deframer(40, width, poly, 0, scramble)
            sink = blocks.message_debug()
            tb = gr.top_block()
            tb.connect(blocks.vector_source_b(out.tolist()), deframer)
            tb.msg_connect(deframer, "out", sink, "store")
            deframer.to_basic_block()._post(pmt.intern("frames"), meta)
            tb.run()
            got = [pmt.to_python(pmt.car(sink.get_message(i)))["crc_ok"] for i in range(4)]
            self.assertEqual(got, expect, scramble)
            for i in (0, 1, 3):
                payload = np.unpackbits(np.array(pmt.u8vector_elements(
                    pmt.cdr(sink.get_message(i))), np.uint8))
                if scramble:
                    np.testing.assert_array_equal(payload, bits[i])

    def test_scrambler_spreads_an_all_zero_payload_over_the_constellation(self):
        const = make_constellation("16qam")
        points = np.array(const.points())
        zero_pdus = [packet_pdu(0, i, np.zeros(40, np.uint8)) for i in range(64)]
        n_symbols = 64 * 31
        for scramble in (False, True):
            tx = tokcom.coded_link_tx(40, "crc16", "cc_k7", "16qam", 8, scramble)
            y = run_stream(tx, [(tx.source, "in", p) for p in zero_pdus], n_symbols,
                           "c").reshape(64, 31)
            # Without scrambling every packet has the same symbols; with it, each packet
            # has its own sequence (pkt_idx 0..63) and so its own symbols.
            distinct = len({row.tobytes() for row in y})
            self.assertEqual(distinct, 64 if scramble else 1)
            labels = np.abs(y[0, :, None] - points[None, :]).argmin(axis=1)
            counts = np.bincount(labels, minlength=16)
            energy = np.mean(np.abs(y[0]) ** 2)
            if not scramble:
                # The problem: zero data bits give zero coded bits, so the 20 symbols before
                # the CRC's are all label 0000, an inner point 7 dB below the average Es.
                self.assertTrue((labels[:20] == 0).all())
                self.assertAlmostEqual(abs(points[0]) ** 2, 0.2, places=6)
                self.assertLess(energy, 0.7)
            else:
                self.assertGreaterEqual(np.count_nonzero(counts), 10)
                self.assertLessEqual(counts.max(), 6)
                self.assertAlmostEqual(energy, 1.0, delta=0.15)
                self.assertAlmostEqual(np.mean(np.abs(y) ** 2), 1.0, delta=0.05)

    def test_mismatched_scrambler_settings_fail_the_crc(self):
        for code in ("cc_k7", "cc_k3"):
            self.round_trip(code, "16qam", "crc16", scramble=(True, False))
            self.round_trip(code, "16qam", "crc16", scramble=(False, True))

    def test_noiseless_round_trip_every_code_and_modulation(self):
        for code, modulation in itertools.product(("cc_k7", "cc_k3", "none"),
                                                  ("bpsk", "qpsk", "16qam")):
            self.round_trip(code, modulation, "crc16")
        for crc in ("none", "crc8", "crc11", "crc32"):
            self.round_trip("cc_k7", "16qam", crc, payload_bits=30)
        for code in ("cc_k7", "cc_k3"):  # the scrambler is on by default: off on both ends
            self.round_trip(code, "16qam", "crc16", scramble=(False, False))

    def round_trip(self, code, modulation, crc, payload_bits=40, scramble=(True, True)):
        n = 2 * 64
        bits, pdus = packets(n, payload_bits, seed=7)
        for i, p in enumerate(pdus):  # frame 0 and frame 1
            meta = pmt.dict_add(pmt.car(p), pmt.intern("frame_id"), pmt.from_uint64(i // 64))
            meta = pmt.dict_add(meta, pmt.intern("pkt_idx"), pmt.from_uint64(i % 64))
            pdus[i] = pmt.cons(meta, pmt.cdr(p))
        tx = tokcom.coded_link_tx(payload_bits, crc, code, modulation, scramble=scramble[0])
        rx = tokcom.coded_link_rx(payload_bits, crc, code, modulation, noise_var=1e-3,
                                  scramble=scramble[1])
        sink = message_collector()
        tb = gr.top_block()
        tb.connect(tx, rx)
        tb.msg_connect(rx, "out", sink, "in")
        label = (code, modulation, crc, scramble)
        done = run_until_count(tb, sink, n, 30.0, [(tx.source, "in", p) for p in pdus])
        self.assertTrue(done, label)
        out = sink.messages()
        if scramble[0] != scramble[1]:  # a mismatch fails every packet
            self.assertFalse(any(pmt.to_python(pmt.car(out[i]))["crc_ok"]
                                 for i in range(n)), label)
            return
        for i in range(n):
            msg = out[i]
            meta = pmt.to_python(pmt.car(msg))
            self.assertTrue(meta["crc_ok"], label)
            self.assertEqual(meta["frame_id"] * 64 + meta["pkt_idx"], i, label)
            got = np.unpackbits(np.array(pmt.u8vector_elements(pmt.cdr(msg)), np.uint8))
            np.testing.assert_array_equal(got[:payload_bits], bits[i], err_msg=str(label))

    def test_demapper_gives_exact_max_log_llrs(self):
        # 16-QAM, QPSK and BPSK take the per-axis path, 8-PSK the all-points path.
        for const in (make_constellation("16qam"), make_constellation("qpsk"),
                      make_constellation("bpsk"), digital.constellation_8psk()):
            self.check_max_log(const)

    def check_max_log(self, const):
        points = np.array(const.points())
        bps = const.bits_per_symbol()
        rng = np.random.default_rng(3)
        y = (rng.normal(size=62) + 1j * rng.normal(size=62)).astype(np.complex64) * 0.6
        n0 = 0.3
        meta = pmt.to_pmt({"n_packets": 2, "frame_id": 0})
        tag = gr.tag_utils.python_to_tag((0, pmt.intern("tokcom_frame"), meta, pmt.PMT_NIL))
        for quantize in (False, True):
            src = blocks.vector_source_c(y.tolist(), False, 1, [tag])
            demap = tokcom.burst_demapper(const, 31 * bps, 0, n0, quantize, 16.0)
            sink = blocks.vector_sink_b() if quantize else blocks.vector_sink_f()
            tb = gr.top_block()
            tb.connect(src, demap, sink)
            tb.run()
            d = np.abs(y[:, None] - points[None, :]) ** 2
            labels = np.arange(len(points))
            expected = np.stack([(d[:, (labels >> (bps - 1 - b)) & 1 == 0].min(1)
                                  - d[:, (labels >> (bps - 1 - b)) & 1 == 1].min(1)) / n0
                                 for b in range(bps)], axis=1).ravel()
            got = np.array(sink.data(), np.float64)
            if quantize:
                np.testing.assert_array_equal(got, np.clip(np.round(128 + 16 * expected), 0, 255))
            else:
                np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)

    def test_all_zero_decoder_output_never_passes_crc(self):
        # An erased burst (all-zero samples) gives zero soft bits; a zero-initialised CRC
        # without inverted parity would accept the all-zero word the decoder makes of it.
        # (Descrambled, that word is the scrambling sequence, which fails as well.)
        for code, scramble in itertools.product(("cc_k7", "cc_k3"), (True, False)):
            rx = tokcom.coded_link_rx(40, "crc16", code, "16qam", noise_var=0.1,
                                      scramble=scramble)
            meta = pmt.to_pmt({"n_packets": 4, "frame_id": 0})
            tag = gr.tag_utils.python_to_tag((0, pmt.intern("tokcom_frame"), meta, pmt.PMT_NIL))
            src = blocks.vector_source_c([0j] * 200, False, 1, [tag])
            tb = gr.top_block()
            tb.connect(src, rx)
            tb.run()
            self.assertEqual((rx.packets_out(), rx.packets_failed()), (4, 4), (code, scramble))

    def test_channel_keeps_tags_on_their_samples(self):
        x = (np.arange(400) + 1).astype(np.complex64)
        tags = [gr.tag_utils.python_to_tag((o, pmt.intern("tokcom_frame"), pmt.PMT_T,
                                            pmt.PMT_NIL)) for o in (0, 10, 300)]
        for noise in ("gaussian", "channel_model"):
            src = blocks.vector_source_c(x.tolist(), False, 1, tags)
            channel = tokcom.loopback_channel(200.0, 1, noise)
            sink = blocks.vector_sink_c()
            tb = gr.top_block()
            tb.connect(src, channel, sink)
            tb.run()
            y = np.array(sink.data())
            for t in sink.tags():
                self.assertAlmostEqual(y[t.offset].real, t.offset + 1, places=3, msg=noise)
            self.assertEqual(len(sink.tags()), 3, noise)

    def test_bursty_erasures_follow_the_gilbert_elliott_chain(self):
        from gnuradio.tokcom.loopback_channel import block_erasure

        erasure = block_erasure(31, 0.05, 0.25, seed=3)
        x = np.ones(31 * 20000, np.complex64)
        sink = blocks.vector_sink_c()
        tb = gr.top_block()
        tb.connect(blocks.vector_source_c(x.tolist()), erasure, sink)
        tb.run()
        y = np.array(sink.data()).reshape(-1, 31)
        erased = (y == 0).all(axis=1)
        self.assertTrue(np.logical_or(erased, (y == 1).all(axis=1)).all())  # whole blocks
        self.assertEqual(int(erased.sum()), erasure.blocks_erased)
        # Stationary share p_gb / (p_gb + p_bg) = 1/6; mean burst 1 / p_bg = 4 blocks.
        self.assertAlmostEqual(erased.mean(), 1 / 6, delta=0.03)
        bursts = int(np.sum(erased[1:] & ~erased[:-1]) + erased[0])
        self.assertAlmostEqual(erased.sum() / bursts, 4.0, delta=0.6)

    def test_noise_variance_is_estimated_from_the_guard(self):
        const = make_constellation("qpsk")
        rng = np.random.default_rng(4)
        n0 = 0.05
        frames, syms_per_frame, guard = 20, 4 * 60, 32
        x = []
        tags = []
        for _ in range(frames):
            tags.append(gr.tag_utils.python_to_tag(
                (len(x), pmt.intern("tokcom_frame"), pmt.to_pmt({"n_packets": 4}), pmt.PMT_NIL)))
            x += list(np.array(const.points())[rng.integers(0, 4, syms_per_frame)])
            x += [0j] * guard
        x = np.array(x) + np.sqrt(n0 / 2) * (rng.normal(size=len(x)) + 1j * rng.normal(size=len(x)))
        demap = tokcom.burst_demapper(const, 120, guard, 0.0, False, 1.0)
        tb = gr.top_block()
        tb.connect(blocks.vector_source_c(x.astype(np.complex64).tolist(), False, 1, tags), demap,
                   blocks.null_sink(gr.sizeof_float))
        tb.run()
        self.assertAlmostEqual(demap.noise_var() / n0, 1.0, delta=0.1)


if __name__ == "__main__":
    gr_unittest.run(qa_coded_link)
