/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_TOKEN_LAYOUT_H
#define INCLUDED_TOKCOM_TOKEN_LAYOUT_H

#include <gnuradio/tokcom/api.h>
#include <cstdint>
#include <string>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief How a frame's token positions are spread over its packets.
 *
 * RANDOM: a seeded permutation (the TokCom paper). STRIDE: token i goes to
 * packet i mod P, slot i div P (the paper's public notebook).
 */
enum class interleaver_mode { RANDOM = 0, STRIDE = 1 };

/*!
 * \brief The token packet format of docs/formats.md, implemented once.
 * \ingroup tokcom
 *
 * A frame of n_tokens tokens (values < codebook_size) is carried by
 * n_packets = ceil(n_tokens / tokens_per_packet) packets. Packet p, slot s
 * carries frame position slot_position(p, s), or padding (-1). Each token is
 * token_bits = ceil(log2(codebook_size)) bits, MSB first; the payload of a
 * packet is tokens_per_packet * token_bits bits packed MSB first into bytes,
 * zero-padded at the end. Padding slots are zero bits.
 */
class TOKCOM_API token_layout
{
public:
    token_layout(uint32_t n_tokens,
                 uint32_t tokens_per_packet,
                 uint32_t codebook_size,
                 interleaver_mode mode,
                 uint64_t seed);

    uint32_t n_tokens() const { return d_n_tokens; }
    uint32_t tokens_per_packet() const { return d_k; }
    uint32_t codebook_size() const { return d_q; }
    uint32_t token_bits() const { return d_bits; }
    uint32_t n_packets() const { return d_n_packets; }
    uint32_t payload_bits() const { return d_k * d_bits; }
    uint32_t payload_bytes() const { return (payload_bits() + 7) / 8; }
    interleaver_mode mode() const { return d_mode; }
    uint64_t seed() const { return d_seed; }

    //! Frame position carried by packet \p pkt in slot \p slot, or -1 for padding.
    int32_t slot_position(uint32_t pkt, uint32_t slot) const;

    //! All slot positions, packet-major: index pkt * tokens_per_packet + slot.
    const std::vector<int32_t>& slot_positions() const { return d_slots; }

    /*!
     * \brief Writes packet \p pkt's payload_bytes() bytes for \p frame
     * (n_tokens values, each < codebook_size) into \p out.
     */
    void pack(const uint16_t* frame, uint32_t pkt, uint8_t* out) const;

    /*!
     * \brief Reads packet \p pkt's payload into \p frame at its positions and
     * clears those positions in \p mask (1 = masked).
     *
     * Nothing is written if any carried value is >= codebook_size; then it
     * returns false (a corrupted packet that passed its CRC).
     */
    bool
    unpack(const uint8_t* payload, uint32_t pkt, uint16_t* frame, uint8_t* mask) const;

    //! ceil(log2(q)) for q in [2, 65536].
    static uint32_t bits_for_codebook(uint32_t q);

    //! The RANDOM interleaver's permutation of [0, n) (docs/formats.md).
    static std::vector<uint32_t> permutation(uint32_t n, uint64_t seed);

    static interleaver_mode mode_from_string(const std::string& name);
    static std::string mode_to_string(interleaver_mode mode);

private:
    uint32_t d_n_tokens;
    uint32_t d_k;
    uint32_t d_q;
    uint32_t d_bits;
    uint32_t d_n_packets;
    interleaver_mode d_mode;
    uint64_t d_seed;
    std::vector<int32_t> d_slots;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_TOKEN_LAYOUT_H */
