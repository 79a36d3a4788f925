/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// The coded link's scrambler (lib/scrambler.h, docs/formats.md "Packet bits on the
// coded link"): the IEEE 802.11 sequence, its period, and the per-packet start.

#include "scrambler.h"
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <set>
#include <string>

namespace gr {
namespace tokcom {

namespace {
// IEEE 802.11-2016 17.3.5.5, all-ones initial state, as the standard prints it.
const std::string IEEE_802_11 = "00001110111100101100100100000010"
                                "00100110001011101011011000001100"
                                "11010100111001111011010000101010"
                                "1111101001010001101110001111111";
} // namespace

BOOST_AUTO_TEST_CASE(sequence_is_the_802_11_sequence)
{
    BOOST_REQUIRE_EQUAL(IEEE_802_11.size(), SCRAMBLER_PERIOD);
    const auto s = scrambler_sequence(SCRAMBLER_PERIOD);
    for (size_t i = 0; i < SCRAMBLER_PERIOD; ++i) {
        BOOST_CHECK_EQUAL(int(s[i]), IEEE_802_11[i] - '0');
    }
}

BOOST_AUTO_TEST_CASE(sequence_has_period_127_and_every_nonzero_state_once)
{
    const auto s = scrambler_sequence(3 * SCRAMBLER_PERIOD);
    for (size_t i = 0; i + SCRAMBLER_PERIOD < s.size(); ++i) {
        BOOST_CHECK_EQUAL(s[i], s[i + SCRAMBLER_PERIOD]);
    }
    // A maximal-length sequence: the 127 windows of 7 bits are the 127 non-zero
    // states, so no shorter period exists and every packet offset is a distinct state.
    std::set<unsigned> states;
    for (size_t i = 0; i < SCRAMBLER_PERIOD; ++i) {
        unsigned w = 0;
        for (size_t k = 0; k < 7; ++k) {
            w |= unsigned(s[i + k]) << k;
        }
        states.insert(w);
    }
    BOOST_CHECK_EQUAL(states.size(), SCRAMBLER_PERIOD);
    BOOST_CHECK(states.count(0) == 0);
}

BOOST_AUTO_TEST_CASE(packet_p_starts_p_bits_into_the_sequence)
{
    const size_t n = 56; // a paper packet: 40 payload + 16 CRC bits
    const packet_scrambler scr(n);
    const auto s = scrambler_sequence(SCRAMBLER_PERIOD);
    for (const uint64_t p : { 0, 1, 2, 63, 126, 127, 128, 1000 }) {
        const uint8_t* seq = scr.sequence(p);
        for (size_t i = 0; i < n; ++i) {
            BOOST_CHECK_EQUAL(seq[i], s[(p + i) % SCRAMBLER_PERIOD]);
        }
    }
    // Packet 0 is the standard's sequence; packets 0 and 127 share it; 0 and 1 differ.
    BOOST_CHECK(std::equal(scr.sequence(0), scr.sequence(0) + n, s.begin()));
    BOOST_CHECK(std::equal(scr.sequence(0), scr.sequence(0) + n, scr.sequence(127)));
    BOOST_CHECK(!std::equal(scr.sequence(0), scr.sequence(0) + n, scr.sequence(1)));
}

BOOST_AUTO_TEST_CASE(packet_seed_reproduces_with_gr_digital_lfsr)
{
    // docs/formats.md: packet p's sequence is gr::digital::lfsr(0x09, seed_p, 6) with
    // seed_p = s[p .. p+6] (LSB first); packet 1: 0x38, packet 2: 0x5C.
    const packet_scrambler scr(56);
    const std::pair<uint64_t, uint64_t> seeds[] = { { 0, 0x70 },
                                                    { 1, 0x38 },
                                                    { 2, 0x5C } };
    for (const auto& [p, seed] : seeds) {
        digital::lfsr lfsr(SCRAMBLER_MASK, seed, SCRAMBLER_REG_LEN);
        for (size_t i = 0; i < scr.size(); ++i) {
            BOOST_CHECK_EQUAL(int(lfsr.next_bit()), int(scr.sequence(p)[i]));
        }
    }
}

BOOST_AUTO_TEST_CASE(apply_twice_is_identity_and_size_zero_is_off)
{
    packet_scrambler scr(20);
    std::vector<uint8_t> bits(20, 0), orig;
    for (size_t i = 0; i < bits.size(); ++i) {
        bits[i] = (i * 7 + 3) % 5 == 0;
    }
    orig = bits;
    scr.apply(bits.data(), 5);
    BOOST_CHECK(bits != orig);
    scr.apply(bits.data(), 5);
    BOOST_CHECK(bits == orig);
    packet_scrambler off(0);
    BOOST_CHECK_EQUAL(off.size(), 0u);
    off.apply(bits.data(), 3);
    BOOST_CHECK(bits == orig);
}

} // namespace tokcom
} // namespace gr
