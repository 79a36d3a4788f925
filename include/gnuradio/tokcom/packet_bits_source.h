/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_PACKET_BITS_SOURCE_H
#define INCLUDED_TOKCOM_PACKET_BITS_SOURCE_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>

namespace gr {
namespace tokcom {

/*!
 * \brief Token packets (PDUs) -> a stream of bits, one fixed-size block per packet, with
 * a CRC. \ingroup tokcom
 *
 * First stage of the coded link's transmitter (docs/link.md). Input message
 * port "in": token packet PDUs (docs/formats.md) with payload_bits bits of
 * payload. Output stream (bytes, one bit each): for every packet, its
 * payload bits, crc_width CRC bits (3GPP style, computed with
 * gr::digital::crc) and tail_bits zero bits, MSB first; the packets of a frame
 * follow each other in pkt_idx order (the fixed frame layout). Before a
 * frame's bits, the frame's meta dict is published on message port "frames"
 * for the burst mapper. A frame is sent once all its packets are in, or when
 * a packet of another frame arrives; packets missing then are sent as filler
 * whose CRC never checks. Malformed packets are counted and dropped.
 *
 * With scramble = true, the payload and CRC bits of every packet (not the tail
 * bits, which terminate the trellis) are XORed with the IEEE 802.11 additive
 * scrambler sequence (x^7 + x^4 + 1; packet pkt_idx starts pkt_idx mod 127
 * bits into it; docs/formats.md), so that the coded bits do not depend on the data:
 * an all-zero payload would otherwise map to one constellation point. The
 * packet_deframer must be given the same setting.
 */
class TOKCOM_API packet_bits_source : virtual public gr::block
{
public:
    typedef std::shared_ptr<packet_bits_source> sptr;

    static sptr make(uint32_t payload_bits,
                     uint32_t crc_width = 16,
                     uint64_t crc_poly = 0x1021,
                     uint32_t tail_bits = 0,
                     bool scramble = false);

    virtual uint64_t packets_in() const = 0;
    virtual uint64_t packets_malformed() const = 0;
    virtual uint64_t packets_filled() const = 0;
    virtual uint64_t frames_out() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_PACKET_BITS_SOURCE_H */
