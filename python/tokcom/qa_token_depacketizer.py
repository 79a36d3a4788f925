#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""token_depacketizer: reassembly, masks, duplicates, late and malformed packets."""

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.tokcom import (
    Frame,
    make_frame_pdu,
    parse_frame_pdu,
    token_depacketizer,
    token_packetizer,
)
from gnuradio.tokcom.testing_support import (
    run_to_done,
    run_until,
    spec_slots,
    wait_for,
)

TIMEOUT_MS = 200.0


def packets_of(f, k=4, mode="random", seed=0):
    p = -(-f.tokens.size // k)
    out = run_to_done(token_packetizer(k, mode, seed), [("in", make_frame_pdu(f))])
    assert len(out) == p, (len(out), p)
    return out


def with_meta(msg, key, value):
    return pmt.cons(pmt.dict_add(pmt.car(msg), pmt.intern(key), value), pmt.cdr(msg))


def depacketizer_for(f, k=4, mode="random", seed=0, timeout_ms=TIMEOUT_MS):
    h, w = f.tokens.shape
    return token_depacketizer(h, w, f.codebook_size, k, mode, seed, timeout_ms)


def random_frame(h, w, q, seed, frame_id=1):
    rng = np.random.default_rng(seed)
    return Frame(rng.integers(0, q, (h, w), dtype=np.uint16), frame_id, q, label=2)


class qa_token_depacketizer(gr_unittest.TestCase):
    def test_complete_frame(self):
        f = random_frame(16, 16, 1024, 0)
        pkts = packets_of(f)
        out = run_to_done(depacketizer_for(f, timeout_ms=0), [("in", m) for m in pkts[::-1]])
        self.assertEqual(len(out), 1)
        rx = parse_frame_pdu(out[0])
        np.testing.assert_array_equal(rx.tokens, f.tokens)
        self.assertEqual(rx.n_masked, 0)
        self.assertEqual(rx.label, 2)
        self.assertEqual(rx.meta["reason"], "complete")
        self.assertEqual(rx.meta["n_packets_ok"], 64)

    def test_fail_port_and_flag_mask_exactly_their_positions(self):
        f = random_frame(16, 16, 1024, 1)
        pkts = packets_of(f, seed=5)
        inputs = [("in", m) for m in pkts]
        inputs[3] = ("fail", pkts[3])
        inputs[10] = ("in", with_meta(pkts[10], "crc_ok", pmt.PMT_F))
        out = run_to_done(depacketizer_for(f, seed=5, timeout_ms=0), inputs)
        rx = parse_frame_pdu(out[0])
        expected = np.zeros(256, bool)
        slots = spec_slots(256, 4, "random", 5)
        expected[slots[[3, 10]].ravel()] = True
        np.testing.assert_array_equal(rx.mask.ravel(), expected)
        self.assertEqual((rx.meta["n_packets_bad"], rx.meta["n_packets_ok"]), (2, 62))

    def test_newer_frame_late_packet_and_timeout(self):
        f1, f2 = random_frame(4, 4, 16, 2, frame_id=1), random_frame(4, 4, 16, 3, frame_id=2)
        p1, p2 = packets_of(f1), packets_of(f2)
        blk = depacketizer_for(f1)
        inputs = [("in", m) for m in p1[:2] + p2[:3] + p1[2:3]]
        # The timeout is wall-clock behaviour: this test waits (bounded) for its frame.
        out = run_until(blk, inputs, 2)
        first, second = (parse_frame_pdu(m) for m in out)
        self.assertEqual((first.frame_id, first.meta["reason"]), (1, "newer_frame"))
        self.assertEqual(first.meta["n_packets_missing"], 2)
        self.assertEqual((second.frame_id, second.meta["reason"]), (2, "timeout"))
        self.assertEqual(blk.packets_late(), 1)
        self.assertEqual(blk.frames_out(), 2)

    def test_malformed_packets_are_counted_and_dropped(self):
        f = random_frame(4, 4, 16, 4)
        good = packets_of(f)
        m0 = good[0]
        bad = [
            pmt.PMT_NIL,
            pmt.cons(pmt.car(m0), pmt.init_u16vector(1, [1])),
            pmt.cons(pmt.dict_delete(pmt.car(m0), pmt.intern("frame_id")), pmt.cdr(m0)),
            with_meta(m0, "pkt_idx", pmt.from_long(4)),
            with_meta(m0, "pkt_idx", pmt.intern("zero")),
            with_meta(m0, "grid_h", pmt.from_long(5)),
            with_meta(m0, "interleaver", pmt.intern("stride")),
            with_meta(m0, "crc_ok", pmt.from_long(1)),
            pmt.cons(pmt.car(m0), pmt.init_u8vector(1, [0])),  # good packet, short payload
            # Geometry keys that disagree with the block's configuration.
            with_meta(m0, "codebook_size", pmt.from_long(32)),
            with_meta(m0, "codebook_size", pmt.intern("sixteen")),
            with_meta(m0, "tokens_per_packet", pmt.from_long(2)),
            with_meta(m0, "n_packets", pmt.from_long(8)),
            with_meta(m0, "interleaver_seed", pmt.from_long(1)),
        ]
        blk = depacketizer_for(f, timeout_ms=0)
        out = run_to_done(blk, [("in", m) for m in bad + good])
        self.assertEqual(blk.packets_malformed(), len(bad))
        self.assertEqual(len(out), 1)
        rx = parse_frame_pdu(out[0])
        np.testing.assert_array_equal(rx.tokens, f.tokens)
        self.assertEqual((rx.meta["reason"], rx.meta["n_packets_ok"]), ("complete", 4))

    def test_matching_geometry_keys_are_accepted(self):
        f = random_frame(4, 4, 16, 5)
        pkts = [with_meta(with_meta(with_meta(with_meta(m, "codebook_size", pmt.from_long(16)),
                                              "tokens_per_packet", pmt.from_long(4)),
                                    "n_packets", pmt.from_long(4)),
                          "interleaver_seed", pmt.from_long(0)) for m in packets_of(f)]
        blk = depacketizer_for(f, timeout_ms=0)
        out = run_to_done(blk, [("in", m) for m in pkts])
        self.assertEqual(blk.packets_malformed(), 0)
        np.testing.assert_array_equal(parse_frame_pdu(out[0]).tokens, f.tokens)

    def test_crc_ok_packet_with_token_beyond_codebook_is_masked(self):
        # Q = 10 needs 4 bits per token, so a payload can carry 10..15: an error the CRC
        # missed. The packet counts as bad and its positions are masked.
        f = random_frame(4, 4, 10, 6)
        pkts = packets_of(f)
        pkts[1] = pmt.cons(pmt.car(pkts[1]), pmt.init_u8vector(2, [0xF0, 0x00]))
        blk = depacketizer_for(f, timeout_ms=0)
        out = run_to_done(blk, [("in", m) for m in pkts])
        rx = parse_frame_pdu(out[0])
        expected = np.zeros(16, bool)
        expected[spec_slots(16, 4, "random", 0)[1]] = True
        np.testing.assert_array_equal(rx.mask.ravel(), expected)
        np.testing.assert_array_equal(rx.tokens[~rx.mask], f.tokens[~rx.mask])
        self.assertEqual((rx.meta["n_packets_ok"], rx.meta["n_packets_bad"]), (3, 1))
        self.assertEqual((rx.meta["reason"], blk.packets_malformed()), ("complete", 0))

    def test_flush_emits_the_open_frame(self):
        # "flush" is another port: it is posted once the packets are handled (ports are
        # drained one after another, not in posting order), then "done" ends the run.
        f = random_frame(4, 4, 16, 7)
        pkts = packets_of(f)
        blk = depacketizer_for(f, timeout_ms=0)
        tb = gr.top_block()
        sink = blocks.message_debug()
        tb.msg_connect(blk, "out", sink, "store")
        for m in (pkts[0], pkts[2]):
            blk.to_basic_block()._post(pmt.intern("in"), m)
        tb.start()
        wait_for(lambda: blk.packets_in() == 2)
        for port, msg in (("flush", pmt.PMT_T), ("flush", pmt.PMT_T),  # 2nd: nothing open
                          ("system", pmt.cons(pmt.intern("done"), pmt.from_long(1)))):
            blk.to_basic_block()._post(pmt.intern(port), msg)
        tb.wait()
        self.assertEqual(sink.num_messages(), 1)
        rx = parse_frame_pdu(sink.get_message(0))
        self.assertEqual(rx.meta["reason"], "flush")
        self.assertEqual((rx.meta["n_packets_ok"], rx.meta["n_packets_missing"]), (2, 2))
        self.assertEqual(rx.n_masked, 8)

    def test_stop_emits_the_open_frame(self):
        f = random_frame(4, 4, 16, 8)
        blk = depacketizer_for(f, timeout_ms=0)
        out = run_to_done(blk, [("in", m) for m in packets_of(f)[:3]])
        self.assertEqual(len(out), 1)
        rx = parse_frame_pdu(out[0])
        self.assertEqual((rx.meta["reason"], rx.meta["n_packets_missing"]), ("stop", 1))
        self.assertEqual(blk.frames_out(), 1)

    def test_late_packets_are_recognised_for_the_64_most_recent_frames(self):
        frames = [random_frame(2, 2, 16, 100 + i, frame_id=i) for i in range(65)]
        pkts = [packets_of(fr)[0] for fr in frames]  # 2x2 tokens, k = 4: one packet each
        blk = depacketizer_for(frames[0], timeout_ms=0)
        # Frames 0..64 complete; frame 0 is then out of the window (64 frames: 1..64),
        # frame 1 is not: its copy is late, frame 0's copy opens a new frame.
        out = run_to_done(blk, [("in", m) for m in pkts + [pkts[1], pkts[0]]])
        self.assertEqual(blk.packets_late(), 1)
        self.assertEqual(len(out), 66)
        again = parse_frame_pdu(out[-1])
        self.assertEqual((again.frame_id, again.meta["reason"]), (0, "complete"))
        np.testing.assert_array_equal(again.tokens, frames[0].tokens)

    @settings(max_examples=40, deadline=None)
    @given(
        h=st.integers(1, 8), w=st.integers(1, 8), q=st.integers(2, 4096),
        k=st.integers(1, 6), mode=st.sampled_from(["random", "stride"]),
        seed=st.integers(0, 2**32), data=st.data(),
    )
    def test_round_trip_with_drops_reorders_duplicates(self, h, w, q, k, mode, seed, data):
        f = random_frame(h, w, q, seed)
        pkts = packets_of(f, k, mode, seed)
        n_pkt = len(pkts)
        # Per packet: 0 never arrives, 1 arrives bad, 2 arrives good; plus extra copies.
        fate = data.draw(st.lists(st.integers(0, 2), min_size=n_pkt, max_size=n_pkt))
        dups = data.draw(st.lists(st.tuples(st.integers(0, n_pkt - 1), st.booleans()),
                                  max_size=4))
        sent = [(i, fate[i] == 2) for i in range(n_pkt) if fate[i]] + dups
        order = data.draw(st.permutations(range(len(sent))))
        inputs = []
        for j in order:
            i, good = sent[j]
            inputs.append(("in", pkts[i] if good else with_meta(pkts[i], "crc_ok", pmt.PMT_F)))
        # What the spec says must come out: packets count until every packet of the
        # frame has arrived once (good or bad); later copies are late.
        state = {}
        for j in order:
            if len(state) == n_pkt:
                break
            i, good = sent[j]
            state[i] = state.get(i, False) or good
        if not state:  # nothing of the frame arrived: there is nothing to deliver
            return
        out = run_to_done(depacketizer_for(f, k, mode, seed, timeout_ms=0), inputs)
        self.assertEqual(len(out), 1)
        rx = parse_frame_pdu(out[0])
        expected_mask = np.ones(h * w, bool)
        slots = spec_slots(h * w, k, mode, seed)
        for i, good in state.items():
            if good:
                expected_mask[slots[i][slots[i] >= 0]] = False
        np.testing.assert_array_equal(rx.mask.ravel(), expected_mask)
        np.testing.assert_array_equal(rx.tokens[~rx.mask], f.tokens[~rx.mask])
        self.assertEqual(rx.meta["n_packets_ok"], sum(state.values()))
        self.assertEqual(rx.meta["reason"], "complete" if len(state) == n_pkt else "stop")

if __name__ == "__main__":
    gr_unittest.run(qa_token_depacketizer)
