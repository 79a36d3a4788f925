#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""token_depacketizer: reassembly, masks, duplicates, late and malformed packets."""

import numpy as np
import pmt
from gnuradio import gr_unittest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.tokcom import (
    Frame,
    make_frame_pdu,
    parse_frame_pdu,
    token_depacketizer,
    token_packetizer,
)
from gnuradio.tokcom.testing_support import post_and_collect, spec_slots

TIMEOUT_MS = 200.0


def packets_of(f, k=4, mode="random", seed=0):
    p = -(-f.tokens.size // k)
    return post_and_collect(token_packetizer(k, mode, seed), [("in", make_frame_pdu(f))], p)


def with_meta(msg, key, value):
    return pmt.cons(pmt.dict_add(pmt.car(msg), pmt.intern(key), value), pmt.cdr(msg))


def depacketizer_for(f, k=4, mode="random", seed=0):
    h, w = f.tokens.shape
    return token_depacketizer(h, w, f.codebook_size, k, mode, seed, TIMEOUT_MS)


def random_frame(h, w, q, seed, frame_id=1):
    rng = np.random.default_rng(seed)
    return Frame(rng.integers(0, q, (h, w), dtype=np.uint16), frame_id, q, label=2)


class qa_token_depacketizer(gr_unittest.TestCase):
    def test_complete_frame(self):
        f = random_frame(16, 16, 1024, 0)
        pkts = packets_of(f)
        out = post_and_collect(depacketizer_for(f), [("in", m) for m in pkts[::-1]], 1)
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
        out = post_and_collect(depacketizer_for(f, seed=5), inputs, 1)
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
        out = post_and_collect(blk, inputs, 2, timed=True)
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
        ]
        blk = depacketizer_for(f)
        out = post_and_collect(blk, [("in", m) for m in bad + good], 1)
        self.assertEqual(blk.packets_malformed(), len(bad))
        np.testing.assert_array_equal(parse_frame_pdu(out[0]).tokens, f.tokens)

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
        # An incomplete frame comes out on the timeout, a complete one at once.
        out = post_and_collect(depacketizer_for(f, k, mode, seed), inputs, 1,
                               timed=len(state) != n_pkt)
        rx = parse_frame_pdu(out[0])
        expected_mask = np.ones(h * w, bool)
        slots = spec_slots(h * w, k, mode, seed)
        for i, good in state.items():
            if good:
                expected_mask[slots[i][slots[i] >= 0]] = False
        np.testing.assert_array_equal(rx.mask.ravel(), expected_mask)
        np.testing.assert_array_equal(rx.tokens[~rx.mask], f.tokens[~rx.mask])
        self.assertEqual(rx.meta["n_packets_ok"], sum(state.values()))
        self.assertEqual(rx.meta["reason"], "complete" if len(state) == n_pkt else "timeout")

if __name__ == "__main__":
    gr_unittest.run(qa_token_depacketizer)
