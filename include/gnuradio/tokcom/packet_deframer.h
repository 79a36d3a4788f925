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
#include <vector>

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
 *
 * Soft output for failed packets (soft_polys not empty): a second input takes
 * the channel LLRs of each packet's coded bits (float, positive = 1, as
 * burst_demapper writes them; n * (payload + CRC + K - 1) per packet for the
 * rate-1/n terminated code with generators soft_polys, octal convention, e.g.
 * {0133, 0171} for gr-fec's [109, 79] K = 7 code, {05, 07} for K = 3). Only for
 * a packet whose CRC fails, a BCJR decoder (log-MAP, or max-log with
 * log_map = false; gr-trellis' fsm and siso_algorithm) computes the posterior
 * LLRs of its payload and CRC bits; they are descrambled (sign flipped where the
 * scrambling bit is 1) and added to the packet's meta as "payload_llrs"
 * (f32vector, payload_bits) and "crc_llrs" (f32vector, crc_width), both
 * positive = 1 (docs/formats.md). Good packets never run the BCJR.
 */
class TOKCOM_API packet_deframer : virtual public gr::block
{
public:
    typedef std::shared_ptr<packet_deframer> sptr;

    static sptr make(uint32_t payload_bits,
                     uint32_t crc_width = 16,
                     uint64_t crc_poly = 0x1021,
                     uint32_t block_bits = 0,
                     bool scramble = false,
                     const std::vector<int>& soft_polys = std::vector<int>(),
                     bool log_map = true);

    virtual uint64_t packets_out() const = 0;
    virtual uint64_t packets_failed() const = 0;
    virtual uint64_t frames_in() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_PACKET_DEFRAMER_H */
