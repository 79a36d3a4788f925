/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_TOKEN_PACKETIZER_H
#define INCLUDED_TOKCOM_TOKEN_PACKETIZER_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>
#include <string>

namespace gr {
namespace tokcom {

/*!
 * \brief Splits a frame PDU (one image's token grid) into token packets.
 * \ingroup tokcom
 *
 * Input port "in": a frame PDU, (meta dict, u16vector of grid_h * grid_w
 * tokens, row-major) whose meta has frame_id, grid_h, grid_w and
 * codebook_size (label, model_id and any other keys are passed on).
 * Output port "out": n_packets packet PDUs per frame, in packet order, each
 * (frame meta + packet keys, u8vector payload) as specified in
 * docs/formats.md. Malformed frames are counted, logged at warning level and
 * dropped.
 */
class TOKCOM_API token_packetizer : virtual public gr::block
{
public:
    typedef std::shared_ptr<token_packetizer> sptr;

    /*!
     * \param tokens_per_packet K, tokens carried by one packet (>= 1).
     * \param interleaver "random" (seeded permutation) or "stride".
     * \param seed seed of the random interleaver (ignored by "stride").
     */
    static sptr make(uint32_t tokens_per_packet = 4,
                     const std::string& interleaver = "random",
                     uint64_t seed = 0);

    virtual uint64_t frames_in() const = 0;
    virtual uint64_t frames_dropped() const = 0;
    virtual uint64_t packets_out() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_TOKEN_PACKETIZER_H */
