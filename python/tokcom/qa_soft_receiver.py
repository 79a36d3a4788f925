#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Soft output of CRC-failed packets (docs/formats.md, "Soft information"): bit order
against the link's own encoders, descrambling, calibration of log-MAP LLRs on the real
chain, and the token depacketizer's frame fields."""

import numpy as np
import pmt
from gnuradio import blocks, fec, gr, gr_unittest, tokcom, trellis
from qa_coded_link import IEEE_802_11_SCRAMBLER  # the sibling QA file (same directory)

from gnuradio.tokcom import Frame, make_frame_pdu, parse_frame_pdu
from gnuradio.tokcom.coded_link_rx import coded_link_rx
from gnuradio.tokcom.coded_link_tx import coded_link_tx
from gnuradio.tokcom.link_config import CRCS, code_of
from gnuradio.tokcom.link_sim import packet_pdu
from gnuradio.tokcom.loopback_channel import loopback_channel
from gnuradio.tokcom.message_collector import message_collector, run_until_count
from gnuradio.tokcom.soft_receiver import (
    bits_to_tokens,
    frame_soft_fields,
    hard_kept,
    make_list_search,
)
from gnuradio.tokcom.testing_support import run_to_done, spec_crc_bits, spec_slots

WIDTH, POLY = CRCS["crc16"]
Q, B, N, P, K, SEED = 1024, 10, 256, 64, 4, 1


def meta_of(msg):
    return pmt.to_python(pmt.car(msg))


def encode(code, info_bits):
    """Coded bits of one packet by the link's own encoder (gr-fec K = 7, gr-trellis K = 3)."""
    tb = gr.top_block()
    sink = blocks.vector_sink_b()
    n = len(info_bits)
    if code == "cc_k7":
        enc = fec.encoder(fec.cc_encoder.make(n, 7, 2, [109, 79], 0, fec.CC_TERMINATED, False),
                          gr.sizeof_char, gr.sizeof_char)
        tb.connect(blocks.vector_source_b(list(info_bits)), enc, sink)
    else:
        enc = trellis.encoder_bb(trellis.fsm(1, 2, [5, 7]), 0)
        tb.connect(blocks.vector_source_b(list(info_bits) + [0, 0]), enc,
                   blocks.unpack_k_bits_bb(2), sink)
    tb.run()
    return np.array(sink.data(), np.uint8)


def token_bits(tokens):
    return (np.asarray(tokens)[..., None] >> np.arange(B - 1, -1, -1)) & 1


def crc_llrs_of(frame, pkt, slots, strength=3.0):
    bits = token_bits(frame[slots[pkt]]).ravel()
    crc = np.array(spec_crc_bits(bits.tolist(), 16, 0x1021))
    return ((2 * crc - 1) * strength).astype(np.float32)


class qa_soft_receiver(gr_unittest.TestCase):
    def test_octal_polys_of_k7_are_gr_fec_polys_reversed(self):
        self.assertEqual(code_of("cc_k7").octal_polys, (0o133, 0o171))
        self.assertEqual(code_of("cc_k3").octal_polys, (0o5, 0o7))

    def test_failed_packet_llrs_have_the_signs_of_the_sent_payload_and_crc(self):
        # Channel LLRs +-4 of the link's own codeword of a scrambled packet; the decoded
        # bits fed to the deframer are zeros, so the CRC fails and the soft path runs.
        rng = np.random.default_rng(3)
        for code in ("cc_k7", "cc_k3"):
            payload = rng.integers(0, 2, 40, dtype=np.uint8)
            plain = np.concatenate([payload, spec_crc_bits(payload, WIDTH, POLY)])
            coded = encode(code, plain ^ IEEE_802_11_SCRAMBLER[:56])
            llrs = np.where(coded == 1, 4.0, -4.0).astype(np.float32)
            llrs[5] = -llrs[5]  # one wrong channel bit the code corrects
            c = code_of(code)
            block_bits = 56 + (c.tail_bits if code == "cc_k3" else 0)
            deframer = tokcom.packet_deframer(40, WIDTH, POLY, block_bits, True,
                                              list(c.octal_polys), True)
            sink = blocks.message_debug()
            tb = gr.top_block()
            tb.connect(blocks.vector_source_b([0] * block_bits), (deframer, 0))
            tb.connect(blocks.vector_source_f(llrs.tolist()), (deframer, 1))
            tb.msg_connect(deframer, "out", sink, "store")
            deframer.to_basic_block()._post(pmt.intern("frames"),
                                            pmt.to_pmt({"n_packets": 1, "frame_id": 0}))
            tb.run()
            self.assertEqual(sink.num_messages(), 1)
            meta = meta_of(sink.get_message(0))
            self.assertFalse(meta["crc_ok"])
            pl, cl = np.asarray(meta["payload_llrs"]), np.asarray(meta["crc_llrs"])
            self.assertEqual((pl.dtype, pl.size, cl.size), (np.float32, 40, 16))
            np.testing.assert_array_equal((pl > 0).astype(np.uint8), payload, code)
            np.testing.assert_array_equal((cl > 0).astype(np.uint8), plain[40:], code)
            self.assertGreater(np.abs(pl).min(), 1.0)

    def test_chain_llrs_are_calibrated_and_only_on_failed_packets(self):
        # Es/N0 4.5 dB, K = 7: most packets fail. Log-MAP posteriors are calibrated: the
        # share of wrong hard decisions matches the mean predicted error probability
        # sigmoid(-|L|), overall and within LLR bins.
        n_frames, esn0 = 6, 4.5
        rng = np.random.default_rng(11)
        sent = rng.integers(0, 2, (n_frames * 64, 40), dtype=np.uint8)
        tb = gr.top_block()
        tx = coded_link_tx(40, "crc16", "cc_k7", "16qam")
        rx = coded_link_rx(40, "crc16", "cc_k7", "16qam", noise_var=10 ** (-esn0 / 10),
                           soft_output=True)
        store = message_collector()
        tb.connect(tx, loopback_channel(esn0, 5), rx)
        tb.msg_connect(rx, "out", store, "in")
        inputs = [(tx.source, "in", packet_pdu(i // 64, i % 64, sent[i]))
                  for i in range(n_frames * 64)]
        run_until_count(tb, store, n_frames * 64, 30.0, inputs)
        msgs = store.messages()
        self.assertEqual(len(msgs), n_frames * 64)
        wrong, p_err, failed = [], [], 0
        for msg in msgs:
            meta = meta_of(msg)
            k = meta["frame_id"] * 64 + meta["pkt_idx"]
            if meta["crc_ok"]:
                self.assertNotIn("payload_llrs", meta)
                continue
            failed += 1
            pl = np.asarray(meta["payload_llrs"])
            wrong.append((pl > 0) != (sent[k] == 1))
            p_err.append(1 / (1 + np.exp(np.abs(pl))))
        wrong, p_err = np.concatenate(wrong), np.concatenate(p_err)
        self.assertGreater(failed, 100)
        self.assertAlmostEqual(wrong.mean(), p_err.mean(), delta=0.02)
        for lo, hi in ((0, 1), (1, 2), (2, 4)):
            sel = (np.abs(np.log(1 / p_err - 1)) >= lo) & (np.abs(np.log(1 / p_err - 1)) < hi)
            if sel.sum() > 400:
                self.assertAlmostEqual(wrong[sel].mean(), p_err[sel].mean(), delta=0.05)

    def test_depacketizer_places_llrs_of_failed_packets_at_their_positions(self):
        rng = np.random.default_rng(4)
        f = Frame(rng.integers(0, 1024, (16, 16), dtype=np.uint16), 1, 1024, label=2)
        pkts = run_to_done(tokcom.token_packetizer(4, "random", 9),
                           [("in", make_frame_pdu(f))], expected=64)
        llr = {p: rng.normal(0, 3, 40).astype(np.float32) for p in (3, 7, 20)}
        crc = {p: rng.normal(0, 3, 16).astype(np.float32) for p in llr}

        def failed(p):
            m = pmt.dict_add(pmt.car(pkts[p]), pmt.intern("crc_ok"), pmt.PMT_F)
            m = pmt.dict_add(m, pmt.intern("payload_llrs"), pmt.init_f32vector(40, llr[p]))
            m = pmt.dict_add(m, pmt.intern("crc_llrs"), pmt.init_f32vector(16, crc[p]))
            return pmt.cons(m, pmt.cdr(pkts[p]))

        inputs = [("in", failed(p) if p in llr else pkts[p]) for p in range(64) if p != 50]
        inputs.append(("in", pkts[20]))  # a good copy replaces the failed packet 20
        blk = tokcom.token_depacketizer(16, 16, 1024, 4, "random", 9, 0.0)
        out = run_to_done(blk, inputs + [("flush", pmt.PMT_T)], expected=1)
        rx = parse_frame_pdu(out[0])
        slots = spec_slots(256, 4, "random", 9)
        want = np.zeros((256, 10), np.float32)
        want_crc = np.zeros((64, 16), np.float32)
        for p in (3, 7):
            want[slots[p]] = llr[p].reshape(4, 10)
            want_crc[p] = crc[p]
        np.testing.assert_array_equal(np.asarray(rx.meta["llrs"], np.float32).reshape(256, 10),
                                      want)
        np.testing.assert_array_equal(
            np.asarray(rx.meta["crc_llrs"], np.float32).reshape(64, 16), want_crc)
        soft = np.zeros(64, np.uint8)
        soft[[3, 7]] = 1
        np.testing.assert_array_equal(np.asarray(rx.meta["soft_packets"]), soft)
        self.assertEqual(rx.meta["n_packets_missing"], 1)  # packet 50: no LLRs, zeros
        self.assertFalse(rx.mask.ravel()[slots[20]].any())
        self.assertNotIn("payload_llrs", rx.meta)

    def test_depacketizer_drops_failed_packets_with_malformed_llrs(self):
        f = Frame(np.zeros((4, 4), np.uint16), 1, 16)
        pkts = run_to_done(tokcom.token_packetizer(4, "stride", 0),
                           [("in", make_frame_pdu(f))], expected=4)
        m = pmt.dict_add(pmt.car(pkts[0]), pmt.intern("crc_ok"), pmt.PMT_F)
        bad = [pmt.dict_add(m, pmt.intern("payload_llrs"), pmt.init_f32vector(3, [0.0] * 3)),
               pmt.dict_add(m, pmt.intern("payload_llrs"), pmt.init_u8vector(16, [0] * 16))]
        blk = tokcom.token_depacketizer(4, 4, 16, 4, "stride", 0, 0.0)
        inputs = [("in", pmt.cons(b, pmt.cdr(pkts[0]))) for b in bad]
        out = run_to_done(blk, inputs + [("in", p) for p in pkts[1:]]
                          + [("flush", pmt.PMT_T)], expected=1)
        self.assertEqual(parse_frame_pdu(out[0]).meta["n_packets_missing"], 1)
        self.assertEqual(blk.packets_malformed(), 2)


    def test_bits_to_tokens_is_msb_first(self):
        assert bits_to_tokens(np.array([[1, 0, 0, 0, 0, 0, 0, 0, 0, 1]])).tolist() == [513]

    def test_hard_kept_takes_llr_signs_where_there_are_llrs_only(self):
        tokens = np.array([5, 6, 7, 8])
        mask = np.array([False, True, True, False])
        llrs = np.zeros((4, B), np.float32)
        llrs[1] = (2 * token_bits(700) - 1) * 0.3
        llrs[3] = (2 * token_bits(9) - 1)  # a received position: ignored
        out = hard_kept(tokens, mask, llrs, fill_token=551, codebook_size=Q)
        assert out.tolist() == [5, 700, 551, 8]

    def test_list_search_finds_the_sent_tokens_among_the_candidates(self):
        rng = np.random.default_rng(0)
        slots = spec_slots(N, K, "random", SEED)
        truth = rng.integers(0, Q, N)
        search = make_list_search((16, 16), Q, K, "random", SEED, 16, 0x1021, list_size=64)
        # Packet 9's tokens: the truth is each slot's 2nd or 3rd candidate, the best are wrong.
        cand = np.tile(truth[:, None], (1, 4))
        logp = np.tile(np.array([-0.1, -1.0, -2.0, -3.0], np.float32), (N, 1))
        for p in slots[9]:
            cand[p] = [(truth[p] + 1) % Q, truth[p], (truth[p] + 2) % Q, (truth[p] + 3) % Q]
        frame = np.where(np.isin(np.arange(N), slots[9]), cand[:, 0], truth)
        crc = np.zeros((P, 16), np.float32)
        crc[9] = crc_llrs_of(truth, 9, slots)
        soft = np.zeros(P, bool)
        soft[9] = True
        res = search.search(frame, soft, crc, cand, logp)
        assert res.accepted == {9: {int(p): int(truth[p]) for p in slots[9]}}
        # best-first: every combination more probable than the truth (summed log-prob
        # above -4.0) came first, and none of them checked
        assert 2 <= res.tried <= 64 and res.searched == 1

    def test_list_search_gives_up_within_its_budget_when_nothing_checks(self):
        rng = np.random.default_rng(1)
        slots = spec_slots(N, K, "random", SEED)
        truth = rng.integers(0, Q, N)
        search = make_list_search((16, 16), Q, K, "random", SEED, 16, 0x1021, list_size=10)
        cand = (truth[:, None] + np.arange(1, 5)) % Q  # the truth is not a candidate
        logp = np.tile(np.array([-0.1, -1.0, -2.0, -3.0], np.float32), (N, 1))
        crc = np.zeros((P, 16), np.float32)
        crc[3] = crc_llrs_of(truth, 3, slots)
        soft = np.zeros(P, bool)
        soft[3] = True
        res = search.search(truth, soft, crc, cand, logp)
        assert res.accepted == {} and res.tried == 10

    def test_frame_soft_fields_reads_the_depacketizer_keys(self):
        meta = {"llrs": list(range(N * B)), "crc_llrs": [0.0] * (P * 16),
                "soft_packets": [0] * P}
        llrs, crc, soft = frame_soft_fields(meta, N, B)
        assert llrs.shape == (N, B) and llrs[1, 0] == B and crc.shape == (P, 16)
        assert soft.dtype == bool and frame_soft_fields({}, N, B) is None


if __name__ == "__main__":
    gr_unittest.run(qa_soft_receiver)
