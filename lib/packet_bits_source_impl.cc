/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "packet_bits_source_impl.h"
#include "pmt_util.h"
#include "scrambler.h"
#include <gnuradio/io_signature.h>
#include <algorithm>
#include <cstring>

namespace gr {
namespace tokcom {

namespace {
// Bounds the memory a malformed n_packets could ask for.
constexpr uint64_t MAX_PACKETS_PER_FRAME = 1u << 20;
} // namespace

packet_bits_source::sptr packet_bits_source::make(uint32_t payload_bits,
                                                  uint32_t crc_width,
                                                  uint64_t crc_poly,
                                                  uint32_t tail_bits,
                                                  bool scramble)
{
    return gnuradio::make_block_sptr<packet_bits_source_impl>(
        payload_bits, crc_width, crc_poly, tail_bits, scramble);
}

packet_bits_source_impl::packet_bits_source_impl(uint32_t payload_bits,
                                                 uint32_t crc_width,
                                                 uint64_t crc_poly,
                                                 uint32_t tail_bits,
                                                 bool scramble)
    : gr::block("packet_bits_source",
                gr::io_signature::make(0, 0, 0),
                gr::io_signature::make(1, 1, sizeof(uint8_t))),
      d_payload_bits(payload_bits),
      d_tail_bits(tail_bits),
      d_block_bits(payload_bits + crc_width + tail_bits),
      d_crc(crc_width, crc_poly),
      d_scramble(scramble ? payload_bits + crc_width : 0)
{
    if (payload_bits == 0) {
        throw std::invalid_argument("packet_bits_source: payload_bits must be >= 1");
    }
    // No handler: work() takes packets from the queue itself, so packet
    // handling and output never run concurrently and the scheduler wakes this
    // block when a packet arrives.
    message_port_register_in(keys::port_in);
    message_port_register_out(keys::port_frames);
}

void packet_bits_source_impl::drop(const char* why)
{
    ++d_malformed;
    d_drop_log(d_logger, "malformed packet", why);
}

void packet_bits_source_impl::take(const pmt::pmt_t& msg)
{
    ++d_packets_in;
    pmt::pmt_t meta, vec;
    if (!split_pdu(msg, meta, vec) || !pmt::is_u8vector(vec)) {
        return drop("not a PDU with a u8vector payload");
    }
    uint64_t id, idx, n, bits;
    if (!dict_get_uint(meta, keys::frame_id, id) ||
        !dict_get_uint(meta, keys::pkt_idx, idx) ||
        !dict_get_uint(meta, keys::n_packets, n)) {
        return drop("frame_id, pkt_idx or n_packets missing or not an integer");
    }
    if (n == 0 || n > MAX_PACKETS_PER_FRAME || idx >= n) {
        return drop("pkt_idx or n_packets out of range");
    }
    if (dict_get_uint(meta, keys::payload_bits, bits) && bits != d_payload_bits) {
        return drop("payload_bits differs from this block's payload_bits");
    }
    if (pmt::length(vec) * 8 < d_payload_bits) {
        return drop("payload shorter than payload_bits");
    }

    if (d_open && (id != d_frame_id || n != d_n_packets)) {
        finish_frame();
    }
    if (!d_open) {
        d_open = true;
        d_frame_id = id;
        d_n_packets = static_cast<uint32_t>(n);
        d_n_filled = 0;
        d_meta = pmt::dict_delete(pmt::dict_delete(meta, keys::pkt_idx), keys::crc_ok);
        d_bits.assign(static_cast<size_t>(n) * d_block_bits, 0);
        d_filled.assign(n, 0);
    }
    if (d_filled[idx]) {
        return drop("duplicate packet");
    }
    size_t len = 0;
    const uint8_t* payload = pmt::u8vector_elements(vec, len);
    uint8_t* out = &d_bits[idx * d_block_bits];
    for (uint32_t i = 0; i < d_payload_bits; ++i) {
        out[i] = (payload[i / 8] >> (7 - i % 8)) & 1;
    }
    d_crc.write_bits(d_crc.compute(out, d_payload_bits), out + d_payload_bits);
    // Payload and CRC only: the tail bits stay zero to terminate the trellis.
    d_scramble.apply(out, idx);
    d_filled[idx] = 1;
    if (++d_n_filled == d_n_packets) {
        finish_frame();
    }
}

void packet_bits_source_impl::finish_frame()
{
    // Filler keeps the frame layout: zero payload with the CRC inverted, so
    // that the receiver's CRC check fails and the packet's tokens are masked;
    // scrambled like any packet, so that descrambling gives that block back.
    for (uint32_t p = 0; p < d_n_packets; ++p) {
        if (!d_filled[p]) {
            uint8_t* out = &d_bits[static_cast<size_t>(p) * d_block_bits];
            const uint64_t parity = ~d_crc.compute(out, d_payload_bits);
            d_crc.write_bits(parity, out + d_payload_bits);
            d_scramble.apply(out, p);
            ++d_packets_filled;
        }
    }
    // The frame's meta goes out before its bits, so the mapper has it in
    // its queue by the time the bits reach it.
    message_port_pub(
        keys::port_frames,
        pmt::dict_add(d_meta, keys::n_packets, pmt::from_uint64(d_n_packets)));
    d_out.erase(d_out.begin(), d_out.begin() + d_out_pos);
    d_out_pos = 0;
    d_out.insert(d_out.end(), d_bits.begin(), d_bits.end());
    d_open = false;
    ++d_frames_out;
}

int packet_bits_source_impl::general_work(int noutput_items,
                                          gr_vector_int&,
                                          gr_vector_const_void_star&,
                                          gr_vector_void_star& output_items)
{
    // Take queued packets until there is output to write; bounded so that a
    // flood of packets cannot starve the output.
    for (int taken = 0; d_out_pos == d_out.size() && taken < 4096; ++taken) {
        const pmt::pmt_t msg = delete_head_nowait(keys::port_in);
        if (!msg) {
            break;
        }
        take(msg);
    }
    const size_t n = std::min<size_t>(noutput_items, d_out.size() - d_out_pos);
    std::memcpy(output_items[0], d_out.data() + d_out_pos, n);
    d_out_pos += n;
    return static_cast<int>(n);
}

} /* namespace tokcom */
} /* namespace gr */
