/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// Checks token_labeling and the frame handling of the semantic mapper/demapper
// against docs/mapper.md.

#include "frame_keys.h"
#include "frame_relabeler.h"
#include <gnuradio/tokcom/token_labeling.h>
#include <boost/test/unit_test.hpp>
#include <numeric>

namespace gr {
namespace tokcom {

namespace {
pmt::pmt_t frame(const std::vector<uint16_t>& tokens, uint64_t q, pmt::pmt_t mask)
{
    pmt::pmt_t meta = pmt::make_dict();
    meta = pmt::dict_add(meta, keys::codebook_size, pmt::from_uint64(q));
    meta = pmt::dict_add(meta, keys::frame_id, pmt::from_uint64(3));
    if (!pmt::is_null(mask)) {
        meta = pmt::dict_add(meta, keys::mask, mask);
    }
    return pmt::cons(meta, pmt::init_u16vector(tokens.size(), tokens));
}
} // namespace

BOOST_AUTO_TEST_CASE(labeling_and_inverse)
{
    const token_labeling lab({ 2, 0, 3, 1 });
    BOOST_CHECK_EQUAL(lab.codebook_size(), 4u);
    for (uint16_t t = 0; t < 4; ++t) {
        BOOST_CHECK_EQUAL(lab.token(lab.label(t)), t);
    }
    const std::vector<uint16_t> inverse = { 1, 3, 0, 2 };
    BOOST_CHECK_EQUAL_COLLECTIONS(
        lab.tokens().begin(), lab.tokens().end(), inverse.begin(), inverse.end());
}

BOOST_AUTO_TEST_CASE(rejects_what_is_not_a_permutation)
{
    BOOST_CHECK_THROW(token_labeling({ 0 }), std::invalid_argument);
    BOOST_CHECK_THROW(token_labeling({ 0, 0 }), std::invalid_argument);
    BOOST_CHECK_THROW(token_labeling({ 0, 2 }), std::invalid_argument);
    BOOST_CHECK_THROW(token_labeling(std::vector<uint16_t>(65537, 0)),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(full_size_labeling_round_trips)
{
    std::vector<uint16_t> labels(65536);
    std::iota(labels.rbegin(), labels.rend(), 0); // reversal
    const token_labeling lab(labels);
    std::vector<uint16_t> v = { 0, 1, 65535 };
    BOOST_CHECK(lab.apply(v.data(), v.size(), nullptr, false));
    BOOST_CHECK_EQUAL(v[0], 65535);
    BOOST_CHECK_EQUAL(v[2], 0);
    BOOST_CHECK(lab.apply(v.data(), v.size(), nullptr, true));
    BOOST_CHECK_EQUAL(v[1], 1);
}

BOOST_AUTO_TEST_CASE(apply_skips_masked_and_refuses_out_of_range)
{
    const token_labeling lab({ 2, 0, 3, 1 });
    std::vector<uint16_t> v = { 0, 1, 7, 3 };
    const std::vector<uint8_t> mask = { 0, 0, 1, 0 };
    BOOST_CHECK(lab.apply(v.data(), v.size(), mask.data(), false));
    const std::vector<uint16_t> expected = { 2, 0, 7, 1 };
    BOOST_CHECK_EQUAL_COLLECTIONS(v.begin(), v.end(), expected.begin(), expected.end());
    std::vector<uint16_t> bad = { 0, 4 };
    BOOST_CHECK(!lab.apply(bad.data(), bad.size(), nullptr, false));
    BOOST_CHECK_EQUAL(bad[0], 0); // nothing changed
}

BOOST_AUTO_TEST_CASE(relabeler_maps_frames_and_keeps_meta)
{
    frame_relabeler tx({ 2, 0, 3, 1 }, false), rx({ 2, 0, 3, 1 }, true);
    std::string why;
    const pmt::pmt_t sent = tx.relabel(frame({ 0, 1, 2, 3, 3 }, 4, pmt::PMT_NIL), why);
    BOOST_REQUIRE(why.empty());
    const std::vector<uint16_t> labels = pmt::u16vector_elements(pmt::cdr(sent));
    const std::vector<uint16_t> expected = { 2, 0, 3, 1, 1 };
    BOOST_CHECK_EQUAL_COLLECTIONS(
        labels.begin(), labels.end(), expected.begin(), expected.end());
    BOOST_CHECK_EQUAL(
        pmt::to_uint64(pmt::dict_ref(pmt::car(sent), keys::frame_id, pmt::PMT_NIL)), 3u);

    // Receiver: position 1 lost (mask 1, value 0) keeps its value.
    const std::vector<uint8_t> mask = { 0, 1, 0, 0, 0 };
    const pmt::pmt_t got =
        rx.relabel(frame({ 2, 0, 3, 1, 1 }, 4, pmt::init_u8vector(5, mask)), why);
    BOOST_REQUIRE(why.empty());
    const std::vector<uint16_t> tokens = pmt::u16vector_elements(pmt::cdr(got));
    const std::vector<uint16_t> back = { 0, 0, 2, 3, 3 };
    BOOST_CHECK_EQUAL_COLLECTIONS(tokens.begin(), tokens.end(), back.begin(), back.end());
    BOOST_CHECK_EQUAL(rx.frames_dropped(), 0u);
}

BOOST_AUTO_TEST_CASE(relabeler_counts_and_drops_malformed_frames)
{
    frame_relabeler rx({ 2, 0, 3, 1 }, true);
    std::string why;
    const std::vector<uint8_t> u8 = { 0, 1 };
    const std::vector<uint16_t> u16 = { 0, 1 };
    // not a PDU; wrong vector type; no codebook_size; another Q; a value >= Q;
    // a mask of the wrong length; a mask that is not a vector
    const std::vector<pmt::pmt_t> bad = {
        pmt::PMT_T,
        pmt::cons(pmt::make_dict(), pmt::init_u8vector(2, u8)),
        pmt::cons(pmt::make_dict(), pmt::init_u16vector(2, u16)),
        frame({ 0, 1 }, 8, pmt::PMT_NIL),
        frame({ 0, 4 }, 4, pmt::PMT_NIL),
        frame({ 0, 1 }, 4, pmt::init_u8vector(1, std::vector<uint8_t>{ 0 })),
        frame({ 0, 1 }, 4, pmt::from_long(1)),
    };
    for (const auto& msg : bad) {
        BOOST_CHECK(pmt::is_null(rx.relabel(msg, why)));
        BOOST_CHECK(!why.empty());
    }
    BOOST_CHECK_EQUAL(rx.frames_in(), bad.size());
    BOOST_CHECK_EQUAL(rx.frames_dropped(), bad.size());
    // A masked position may hold anything, even a value >= Q.
    BOOST_CHECK(!pmt::is_null(rx.relabel(
        frame({ 0, 9 }, 4, pmt::init_u8vector(2, std::vector<uint8_t>{ 0, 1 })), why)));
}

} // namespace tokcom
} // namespace gr
