/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "bit_crc.h"
#include <stdexcept>
#include <string>

namespace gr {
namespace tokcom {

bit_crc::bit_crc(unsigned width, uint64_t poly) : d_width(width)
{
    if (width > 64) {
        throw std::invalid_argument("CRC width must be 0..64, got " +
                                    std::to_string(width));
    }
    if (width > 0) {
        const uint64_t ones = width == 64 ? ~uint64_t{ 0 } : (uint64_t{ 1 } << width) - 1;
        d_crc = std::make_unique<digital::crc>(width, poly, 0, ones, false, false);
    }
}

uint64_t bit_crc::compute(const uint8_t* bits, size_t n)
{
    if (!d_crc) {
        return 0;
    }
    const size_t pad = (8 - n % 8) % 8;
    d_bytes.assign((n + pad) / 8, 0);
    for (size_t i = 0; i < n; ++i) {
        const size_t bit = i + pad;
        if (bits[i] & 1) {
            d_bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
        }
    }
    return d_crc->compute(d_bytes.data(), d_bytes.size());
}

void bit_crc::write_bits(uint64_t value, uint8_t* out) const
{
    for (unsigned i = 0; i < d_width; ++i) {
        out[i] = (value >> (d_width - 1 - i)) & 1;
    }
}

uint64_t bit_crc::read_bits(const uint8_t* in) const
{
    uint64_t value = 0;
    for (unsigned i = 0; i < d_width; ++i) {
        value = (value << 1) | (in[i] & 1);
    }
    return value;
}

} // namespace tokcom
} // namespace gr
