/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_SCRAMBLER_H
#define INCLUDED_TOKCOM_SCRAMBLER_H

#include <gnuradio/digital/lfsr.h>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief The additive (synchronous) scrambler of the coded link (docs/formats.md).
 *
 * IEEE 802.11-2016 17.3.5.5 (OFDM PHY data scrambler): generator polynomial
 * S(x) = x^7 + x^4 + 1, i.e. s[n] = s[n-4] xor s[n-7], period 127. From the
 * all-ones initial state the standard's sequence starts 00001110 11110010 ...
 * gr::digital::lfsr outputs its register's LSB first and shifts the parity of
 * (register & mask) in at bit reg_len, so lfsr(0x09, 0x70, 6) holds
 * s[n] ... s[n+6] in bits 0 ... 6, feeds back s[n] xor s[n+3] = s[n+7], and
 * starts with s[0..6] = 0000111: exactly the 802.11 sequence.
 *
 * The scrambler restarts from this seed for every packet, so the sequence of a
 * packet of n bits is always the same n bits: it is computed once.
 */
constexpr uint64_t SCRAMBLER_MASK = 0x09;
constexpr uint64_t SCRAMBLER_SEED = 0x70;
constexpr uint8_t SCRAMBLER_REG_LEN = 6;

//! The first \p n bits of the scrambling sequence, one bit per byte.
inline std::vector<uint8_t> scrambler_sequence(size_t n)
{
    digital::lfsr lfsr(SCRAMBLER_MASK, SCRAMBLER_SEED, SCRAMBLER_REG_LEN);
    std::vector<uint8_t> seq(n);
    for (auto& bit : seq) {
        bit = lfsr.next_bit();
    }
    return seq;
}

//! XORs \p bits (one bit per byte) with \p seq; scrambling and descrambling alike.
inline void scramble_bits(uint8_t* bits, const std::vector<uint8_t>& seq)
{
    for (size_t i = 0; i < seq.size(); ++i) {
        bits[i] ^= seq[i];
    }
}

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_SCRAMBLER_H */
