/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_BIT_CRC_H
#define INCLUDED_TOKCOM_BIT_CRC_H

#include <gnuradio/digital/crc.h>
#include <cstdint>
#include <memory>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief A CRC over a bit string of any length, computed by gr::digital::crc.
 *
 * 3GPP polynomials and bit order (TS 38.212 5.1: register starts at zero, no
 * reflection, parity bits appended MSB first), with the parity inverted (final
 * XOR all ones) so that an all-zero block never checks: a Viterbi decoder fed
 * zero soft bits (an erased burst) outputs all zeros, which a plain 3GPP CRC
 * would accept. digital::crc
 * works on bytes, so the bits are packed MSB first with zero bits in front
 * up to a whole byte: with a zero initial register, leading zeros leave the
 * CRC unchanged, so the result is the CRC of the bit string itself.
 * width 0 means no CRC.
 */
class bit_crc
{
public:
    bit_crc(unsigned width, uint64_t poly);

    unsigned width() const { return d_width; }

    //! CRC of \p n unpacked bits (one bit per byte, LSB used).
    uint64_t compute(const uint8_t* bits, size_t n);

    //! Writes the width() parity bits of \p value MSB first.
    void write_bits(uint64_t value, uint8_t* out) const;

    //! Reads width() bits MSB first.
    uint64_t read_bits(const uint8_t* in) const;

private:
    unsigned d_width;
    std::unique_ptr<digital::crc> d_crc;
    std::vector<uint8_t> d_bytes;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_BIT_CRC_H */
