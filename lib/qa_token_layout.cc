/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// Checks token_layout against the hand-worked examples of docs/formats.md.

#include <gnuradio/tokcom/token_layout.h>
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <numeric>

namespace gr {
namespace tokcom {

BOOST_AUTO_TEST_CASE(bits_for_codebook_is_ceil_log2)
{
    BOOST_CHECK_EQUAL(token_layout::bits_for_codebook(2), 1u);
    BOOST_CHECK_EQUAL(token_layout::bits_for_codebook(3), 2u);
    BOOST_CHECK_EQUAL(token_layout::bits_for_codebook(1024), 10u);
    BOOST_CHECK_EQUAL(token_layout::bits_for_codebook(1025), 11u);
    BOOST_CHECK_EQUAL(token_layout::bits_for_codebook(65536), 16u);
    BOOST_CHECK_THROW(token_layout::bits_for_codebook(1), std::invalid_argument);
    BOOST_CHECK_THROW(token_layout::bits_for_codebook(65537), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(random_permutation_matches_spec_example)
{
    // docs/formats.md example: n = 8, seed = 1.
    const auto perm = token_layout::permutation(8, 1);
    const std::vector<uint32_t> expected = { 4, 3, 2, 7, 5, 6, 0, 1 };
    BOOST_CHECK_EQUAL_COLLECTIONS(
        perm.begin(), perm.end(), expected.begin(), expected.end());
}

BOOST_AUTO_TEST_CASE(random_layout_is_a_permutation)
{
    const token_layout lay(256, 4, 1024, interleaver_mode::RANDOM, 7);
    BOOST_CHECK_EQUAL(lay.n_packets(), 64u);
    std::vector<int32_t> pos = lay.slot_positions();
    std::sort(pos.begin(), pos.end());
    std::vector<int32_t> all(256);
    std::iota(all.begin(), all.end(), 0);
    BOOST_CHECK(pos == all);
}

BOOST_AUTO_TEST_CASE(stride_layout_with_padding)
{
    // n = 10, K = 4 -> P = 3; packet p slot s holds s * 3 + p when < 10.
    const token_layout lay(10, 4, 16, interleaver_mode::STRIDE, 0);
    BOOST_CHECK_EQUAL(lay.n_packets(), 3u);
    BOOST_CHECK_EQUAL(lay.slot_position(0, 3), 9);
    BOOST_CHECK_EQUAL(lay.slot_position(1, 2), 7);
    BOOST_CHECK_EQUAL(lay.slot_position(1, 3), -1);
    BOOST_CHECK_EQUAL(lay.slot_position(2, 3), -1);
}

BOOST_AUTO_TEST_CASE(pack_is_msb_first)
{
    const token_layout lay(4, 4, 1024, interleaver_mode::STRIDE, 0);
    const uint16_t frame[4] = { 1, 1023, 512, 3 };
    uint8_t out[5];
    lay.pack(frame, 0, out);
    // 0000000001 1111111111 1000000000 0000000011
    const uint8_t expected[5] = { 0x00, 0x7F, 0xF8, 0x00, 0x03 };
    BOOST_CHECK_EQUAL_COLLECTIONS(out, out + 5, expected, expected + 5);

    uint16_t back[4] = { 0, 0, 0, 0 };
    uint8_t mask[4] = { 1, 1, 1, 1 };
    BOOST_CHECK(lay.unpack(out, 0, back, mask));
    BOOST_CHECK_EQUAL_COLLECTIONS(back, back + 4, frame, frame + 4);
    BOOST_CHECK_EQUAL(std::count(mask, mask + 4, 0), 4);
}

BOOST_AUTO_TEST_CASE(unpack_rejects_values_outside_codebook)
{
    const token_layout lay(4, 4, 1000, interleaver_mode::STRIDE, 0);
    const uint8_t payload[5] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }; // 1023 > 999
    uint16_t frame[4] = { 5, 5, 5, 5 };
    uint8_t mask[4] = { 1, 1, 1, 1 };
    BOOST_CHECK(!lay.unpack(payload, 0, frame, mask));
    BOOST_CHECK_EQUAL(frame[0], 5);
    BOOST_CHECK_EQUAL(mask[0], 1);
}

} /* namespace tokcom */
} /* namespace gr */
