/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_PACKET_DEFRAMER_H
#define INCLUDED_TOKCOM_PACKET_DEFRAMER_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>

namespace gr {
namespace tokcom {

/*!
 * \brief Decoded bits -> token packet PDUs flagged by their CRC.
 * \ingroup tokcom
 *
 * Last stage of the coded link's receiver, the inverse of packet_bits_source.
 * Input: bytes, one decoded bit each, block_bits per packet (payload_bits
 * payload, crc_width CRC, then anything the decoder leaves, e.g. tail bits,
 * which is skipped). Message port "frames": the frame meta, one per frame, in
 * order, before the frame's bits (burst_demapper publishes it). Output
 * message port "out": one packet PDU per packet (docs/formats.md): meta = the
 * frame meta + pkt_idx + crc_ok, payload = the payload bits packed MSB first.
 * Packets whose CRC fails are sent too, with crc_ok = false.
 *
 * With scramble = true, the payload and CRC bits are descrambled (XORed with
 * the IEEE 802.11 x^7 + x^4 + 1 sequence started pkt_idx mod 127 bits in, as
 * by packet_bits_source with scramble = true) before the CRC check. A setting
 * that differs from the transmitter's fails the CRC of (almost) every packet.
 */
class TOKCOM_API packet_deframer : virtual public gr::block
{
public:
    typedef std::shared_ptr<packet_deframer> sptr;

    static sptr make(uint32_t payload_bits,
                     uint32_t crc_width = 16,
                     uint64_t crc_poly = 0x1021,
                     uint32_t block_bits = 0,
                     bool scramble = false);

    virtual uint64_t packets_out() const = 0;
    virtual uint64_t packets_failed() const = 0;
    virtual uint64_t frames_in() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_PACKET_DEFRAMER_H */
