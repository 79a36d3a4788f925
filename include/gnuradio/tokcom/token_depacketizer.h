/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_TOKEN_DEPACKETIZER_H
#define INCLUDED_TOKCOM_TOKEN_DEPACKETIZER_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>
#include <string>

namespace gr {
namespace tokcom {

/*!
 * \brief Collects token packets back into frames; lost packets become masks.
 * \ingroup tokcom
 *
 * Input "in": packet PDUs (docs/formats.md); meta crc_ok = false marks a
 * packet bad. Input "fail": packets that failed their CRC (all treated as
 * bad). Input "flush": any message emits the open frame now.
 * Output "out": one frame PDU per frame, (meta, u16vector tokens) with meta
 * mask (u8vector, 1 = masked) and packet counts. A frame is emitted when all
 * its packets arrived, when a packet of another frame arrives, after
 * timeout_ms without a new packet (0 disables), on flush, and on stop.
 * Malformed packets are counted and dropped with a warning log.
 */
class TOKCOM_API token_depacketizer : virtual public gr::block
{
public:
    typedef std::shared_ptr<token_depacketizer> sptr;

    static sptr make(uint32_t grid_h,
                     uint32_t grid_w,
                     uint32_t codebook_size,
                     uint32_t tokens_per_packet = 4,
                     const std::string& interleaver = "random",
                     uint64_t seed = 0,
                     double timeout_ms = 500.0);

    virtual uint64_t packets_in() const = 0;
    virtual uint64_t packets_malformed() const = 0;
    virtual uint64_t packets_late() const = 0;
    virtual uint64_t packets_duplicate() const = 0;
    virtual uint64_t frames_out() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_TOKEN_DEPACKETIZER_H */
