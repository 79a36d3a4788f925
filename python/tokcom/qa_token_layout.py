#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""token_layout (the C++ format implementation) against the spec oracle."""

import numpy as np
from gnuradio import gr_unittest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.tokcom import token_layout
from gnuradio.tokcom.testing_support import (
    spec_payload,
    spec_permutation,
    spec_slots,
    spec_token_bits,
    splitmix64,
)

geometry = st.tuples(
    st.integers(1, 300),  # n_tokens
    st.integers(1, 9),  # tokens per packet
    st.integers(2, 65536),  # codebook size
    st.sampled_from(["random", "stride"]),
    st.integers(0, 2**64 - 1),  # seed
)


class qa_token_layout(gr_unittest.TestCase):
    def test_splitmix64_reference_value(self):
        # First output for state 0, as published with the SplitMix64 reference code.
        self.assertEqual(splitmix64(0)[1], 0xE220A8397B1DCDAF)

    def test_spec_example_permutation(self):
        self.assertEqual(list(token_layout.permutation(8, 1)), [4, 3, 2, 7, 5, 6, 0, 1])
        self.assertEqual(spec_permutation(8, 1), [4, 3, 2, 7, 5, 6, 0, 1])

    def test_paper_geometry(self):
        lay = token_layout(256, 4, 1024, "random", 0)
        self.assertEqual((lay.n_packets, lay.token_bits, lay.payload_bits, lay.payload_bytes),
                         (64, 10, 40, 5))

    def test_stride_matches_notebook_rule(self):
        lay = token_layout(256, 4, 1024, "stride", 0)
        slots = lay.slot_positions()
        for i in range(256):  # token i -> packet i mod P, slot i div P
            self.assertEqual(slots[i % 64, i // 64], i)

    def test_bad_arguments_raise(self):
        for args in [(0, 4, 16), (8, 0, 16), (8, 4, 1), (8, 4, 65537)]:
            with self.assertRaises((ValueError, IndexError)):
                token_layout(*args)
        with self.assertRaises(ValueError):
            token_layout(8, 4, 16, "zigzag")

    @settings(max_examples=200, deadline=None)
    @given(geometry, st.data())
    def test_layout_and_payload_match_spec(self, geo, data):
        n, k, q, mode, seed = geo
        lay = token_layout(n, k, q, mode, seed)
        slots = spec_slots(n, k, mode, seed)
        np.testing.assert_array_equal(lay.slot_positions(), slots)
        self.assertEqual(lay.token_bits, spec_token_bits(q))
        tokens = np.array(data.draw(st.lists(st.integers(0, q - 1), min_size=n, max_size=n)),
                          dtype=np.uint16)
        frame = np.zeros(n, np.uint16)
        mask = np.ones(n, np.uint8)
        for pkt in range(lay.n_packets):
            payload = lay.pack(tokens, pkt)
            self.assertEqual(payload, spec_payload(tokens, slots[pkt], q))
            self.assertTrue(lay.unpack(np.frombuffer(payload, np.uint8), pkt, frame, mask))
        np.testing.assert_array_equal(frame, tokens)
        self.assertFalse(mask.any())


if __name__ == "__main__":
    gr_unittest.run(qa_token_layout)
