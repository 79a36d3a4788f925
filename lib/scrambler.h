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
 * Packet p of a frame (its pkt_idx) is scrambled with the same sequence
 * started p bits later: bit i is XORed with s[(p + i) mod 127], i.e. the
 * scrambler's initial state for packet p is the (non-zero) state the 802.11
 * scrambler reaches after p steps from all ones. Packet 0 uses the standard's
 * sequence itself. A payload repeated in every packet thus meets 127 different
 * sequences instead of one.
 */
constexpr uint64_t SCRAMBLER_MASK = 0x09;
constexpr uint64_t SCRAMBLER_SEED = 0x70;
constexpr uint8_t SCRAMBLER_REG_LEN = 6;
constexpr size_t SCRAMBLER_PERIOD = 127;

//! The first \p n bits of the scrambling sequence (all-ones state), one bit per byte.
inline std::vector<uint8_t> scrambler_sequence(size_t n)
{
    digital::lfsr lfsr(SCRAMBLER_MASK, SCRAMBLER_SEED, SCRAMBLER_REG_LEN);
    std::vector<uint8_t> seq(n);
    for (auto& bit : seq) {
        bit = lfsr.next_bit();
    }
    return seq;
}

/*!
 * \brief The scrambling sequences of the packets of a frame (see above).
 *
 * Holds s[0 .. 126 + n - 1] once, so that packet p's n bits are the window
 * starting at p mod 127. n = 0: no scrambling (size() == 0, apply() does
 * nothing).
 */
class packet_scrambler
{
public:
    //! \p n: scrambled bits per packet (payload + CRC).
    explicit packet_scrambler(size_t n)
        : d_n(n),
          d_seq(n ? scrambler_sequence(SCRAMBLER_PERIOD - 1 + n) : std::vector<uint8_t>())
    {
    }

    size_t size() const { return d_n; }

    //! The \p size() sequence bits of packet \p pkt_idx.
    const uint8_t* sequence(uint64_t pkt_idx) const
    {
        return d_seq.data() + pkt_idx % SCRAMBLER_PERIOD;
    }

    //! XORs \p bits (one bit per byte) with packet \p pkt_idx's sequence;
    //! scrambling and descrambling alike.
    void apply(uint8_t* bits, uint64_t pkt_idx) const
    {
        const uint8_t* seq = sequence(pkt_idx);
        for (size_t i = 0; i < d_n; ++i) {
            bits[i] ^= seq[i];
        }
    }

private:
    size_t d_n;
    std::vector<uint8_t> d_seq;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_SCRAMBLER_H */
