#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""token_packetizer against docs/formats.md (via the spec oracle)."""

import numpy as np
import pmt
from gnuradio import gr_unittest

from gnuradio.tokcom import Frame, make_frame_pdu, token_packetizer
from gnuradio.tokcom.testing_support import run_to_done, spec_payload, spec_slots


def frame(h=16, w=16, q=1024, frame_id=7, seed=0, label=3):
    rng = np.random.default_rng(seed)
    return Frame(rng.integers(0, q, (h, w), dtype=np.uint16), frame_id, q, label=label,
                 model_id="fmnist-test")


class qa_token_packetizer(gr_unittest.TestCase):
    def check_packets(self, f, k, mode, seed):
        blk = token_packetizer(k, mode, seed)
        n = f.tokens.size
        p = -(-n // k)
        out = run_to_done(blk, [("in", make_frame_pdu(f))], expected=p)
        self.assertEqual(len(out), p)
        slots = spec_slots(n, k, mode, seed)
        for pkt, msg in enumerate(out):
            meta = pmt.to_python(pmt.car(msg))
            self.assertEqual(meta["pkt_idx"], pkt)
            self.assertEqual(meta["frame_id"], f.frame_id)
            self.assertEqual(meta["n_packets"], p)
            self.assertEqual(meta["label"], f.label)
            self.assertEqual(meta["model_id"], "fmnist-test")
            self.assertEqual(meta["interleaver"], mode)
            self.assertEqual(meta["payload_bits"], k * meta["token_bits"])
            payload = bytes(pmt.u8vector_elements(pmt.cdr(msg)))
            self.assertEqual(payload, spec_payload(f.tokens, slots[pkt], f.codebook_size))
        self.assertEqual(blk.packets_out(), p)

    def test_paper_geometry_random(self):
        self.check_packets(frame(), 4, "random", 1234)

    def test_paper_geometry_stride(self):
        self.check_packets(frame(), 4, "stride", 0)

    def test_odd_geometry(self):
        self.check_packets(frame(h=5, w=7, q=3, seed=1), 3, "random", 9)
        self.check_packets(frame(h=3, w=3, q=65536, seed=2), 4, "stride", 0)

    def test_malformed_frames_are_counted_and_dropped(self):
        good = make_frame_pdu(frame(h=2, w=2, q=16))
        meta, vec = pmt.car(good), pmt.cdr(good)
        bad = [
            pmt.intern("not a pdu"),
            pmt.cons(meta, pmt.init_u8vector(4, [0, 1, 2, 3])),  # wrong vector type
            pmt.cons(meta, pmt.init_u16vector(3, [0, 1, 2])),  # wrong length
            pmt.cons(pmt.dict_delete(meta, pmt.intern("grid_h")), vec),  # missing key
            pmt.cons(pmt.dict_add(meta, pmt.intern("codebook_size"), pmt.from_long(1)), vec),
            pmt.cons(meta, pmt.init_u16vector(4, [0, 1, 2, 16])),  # token >= Q
        ]
        blk = token_packetizer(4, "random", 0)
        out = run_to_done(blk, [("in", m) for m in bad] + [("in", good)], expected=1)
        self.assertEqual(len(out), 1)
        self.assertEqual(blk.frames_dropped(), len(bad))
        self.assertEqual(blk.frames_in(), len(bad) + 1)


if __name__ == "__main__":
    gr_unittest.run(qa_token_packetizer)
