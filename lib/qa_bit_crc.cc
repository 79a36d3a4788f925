/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// bit_crc (CRC over any number of bits, built on gr::digital::crc) against published
// check values and a bit-serial reference of the definition in docs/link.md.

#include "bit_crc.h"
#include <boost/test/unit_test.hpp>
#include <random>
#include <string>

namespace gr {
namespace tokcom {

namespace {

// The definition, one bit at a time: zero register, no reflection, parity inverted.
uint64_t bit_serial_crc(const std::vector<uint8_t>& bits, unsigned width, uint64_t poly)
{
    const uint64_t mask = width == 64 ? ~uint64_t{ 0 } : (uint64_t{ 1 } << width) - 1;
    const uint64_t top = uint64_t{ 1 } << (width - 1);
    uint64_t reg = 0;
    for (const uint8_t bit : bits) {
        const bool feedback = ((reg & top) != 0) ^ (bit & 1);
        reg = (reg << 1) & mask;
        if (feedback) {
            reg ^= poly;
        }
    }
    return reg ^ mask;
}

std::vector<uint8_t> bits_of(const std::string& text)
{
    std::vector<uint8_t> bits;
    for (const unsigned char c : text) {
        for (int i = 7; i >= 0; --i) {
            bits.push_back((c >> i) & 1);
        }
    }
    return bits;
}

} // namespace

BOOST_AUTO_TEST_CASE(crc_matches_published_check_values)
{
    // The usual check input "123456789". With a zero initial register, no reflection
    // and the parity inverted, CRC-16 0x1021 is the catalogued CRC-16/GSM (check
    // 0xCE3C) and CRC-32 0x04C11DB7 is CRC-32/CKSUM (POSIX cksum, check 0x765E7680).
    const auto bits = bits_of("123456789");
    bit_crc crc16(16, 0x1021);
    BOOST_CHECK_EQUAL(crc16.compute(bits.data(), bits.size()), 0xCE3Cu);
    bit_crc crc32(32, 0x04C11DB7);
    BOOST_CHECK_EQUAL(crc32.compute(bits.data(), bits.size()), 0x765E7680u);
}

BOOST_AUTO_TEST_CASE(crc_of_any_bit_length_matches_the_bit_serial_reference)
{
    // The link's CRCs (python/tokcom/link_config.py) over lengths that are and are not
    // multiples of 8, including the paper packet's 40 bits.
    const std::pair<unsigned, uint64_t> crcs[] = {
        { 8, 0x9B }, { 11, 0x621 }, { 16, 0x1021 }, { 24, 0x864CFB }, { 32, 0x04C11DB7 }
    };
    std::mt19937 rng(1);
    for (const auto& [width, poly] : crcs) {
        bit_crc crc(width, poly);
        for (size_t n : { 1, 7, 8, 9, 40, 97, 200 }) {
            for (int trial = 0; trial < 5; ++trial) {
                std::vector<uint8_t> bits(n);
                for (auto& b : bits) {
                    b = rng() & 1;
                }
                BOOST_CHECK_EQUAL(crc.compute(bits.data(), n),
                                  bit_serial_crc(bits, width, poly));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(all_zero_block_never_checks)
{
    // Erased bursts decode to all zeros: with the inverted parity, zeros + zero parity
    // must fail the check.
    bit_crc crc(16, 0x1021);
    std::vector<uint8_t> zeros(40, 0);
    BOOST_CHECK_NE(crc.compute(zeros.data(), zeros.size()), 0u);
}

BOOST_AUTO_TEST_CASE(parity_bits_round_trip_msb_first)
{
    bit_crc crc(11, 0x621);
    std::vector<uint8_t> out(11);
    crc.write_bits(0x5A3, out.data());
    const std::vector<uint8_t> expected = { 1, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1 };
    BOOST_CHECK_EQUAL_COLLECTIONS(
        out.begin(), out.end(), expected.begin(), expected.end());
    BOOST_CHECK_EQUAL(crc.read_bits(out.data()), 0x5A3u);
}

BOOST_AUTO_TEST_CASE(width_zero_means_no_crc_and_width_above_64_throws)
{
    bit_crc none(0, 0);
    std::vector<uint8_t> bits(10, 1);
    BOOST_CHECK_EQUAL(none.width(), 0u);
    BOOST_CHECK_EQUAL(none.compute(bits.data(), bits.size()), 0u);
    BOOST_CHECK_THROW(bit_crc(65, 1), std::invalid_argument);
}

} // namespace tokcom
} // namespace gr
