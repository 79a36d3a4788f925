/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "packet_deframer_impl.h"
#include "pmt_util.h"
#include "scrambler.h"
#include <gnuradio/io_signature.h>
#include <algorithm>

namespace gr {
namespace tokcom {

packet_deframer::sptr packet_deframer::make(uint32_t payload_bits,
                                            uint32_t crc_width,
                                            uint64_t crc_poly,
                                            uint32_t block_bits,
                                            bool scramble,
                                            const std::vector<int>& soft_polys,
                                            bool log_map)
{
    return gnuradio::make_block_sptr<packet_deframer_impl>(
        payload_bits, crc_width, crc_poly, block_bits, scramble, soft_polys, log_map);
}

packet_deframer_impl::packet_deframer_impl(uint32_t payload_bits,
                                           uint32_t crc_width,
                                           uint64_t crc_poly,
                                           uint32_t block_bits,
                                           bool scramble,
                                           const std::vector<int>& soft_polys,
                                           bool log_map)
    : gr::block("packet_deframer",
                soft_polys.empty()
                    ? gr::io_signature::make(1, 1, sizeof(uint8_t))
                    : gr::io_signature::makev(2, 2, { sizeof(uint8_t), sizeof(float) }),
                gr::io_signature::make(0, 0, 0)),
      d_payload_bits(payload_bits),
      d_block_bits(block_bits ? block_bits : payload_bits + crc_width),
      d_crc(crc_width, crc_poly),
      d_scramble(scramble ? payload_bits + crc_width : 0),
      d_descrambled(d_scramble.size()),
      d_payload((payload_bits + 7) / 8)
{
    if (payload_bits == 0 || d_block_bits < payload_bits + crc_width) {
        throw std::invalid_argument(
            "packet_deframer: need payload_bits >= 1 and block_bits >= payload + CRC");
    }
    if (!soft_polys.empty()) {
        // Terminated code: K - 1 tail bits, K = the longest generator's length.
        int k = 0;
        for (const int g : soft_polys) {
            k = std::max(k, g > 0 ? 32 - __builtin_clz(static_cast<unsigned>(g)) : 0);
        }
        d_soft = std::make_unique<soft_bit_decoder>(
            soft_polys, payload_bits + crc_width, std::max(k - 1, 0), log_map);
        d_info_llrs.resize(payload_bits + crc_width);
    }
    message_port_register_in(keys::port_frames);
    message_port_register_out(keys::port_out);
}

void packet_deframer_impl::forecast(int, gr_vector_int& ninput_items_required)
{
    ninput_items_required[0] = static_cast<int>(d_block_bits);
    if (d_soft) {
        ninput_items_required[1] = static_cast<int>(d_soft->coded_bits());
    }
}

void packet_deframer_impl::add_soft_fields(const float* coded_llrs, pmt::pmt_t& meta)
{
    d_soft->decode(coded_llrs, d_info_llrs.data());
    // Descramble: where the scrambling bit is 1 the sent bit was flipped, so is its LLR
    // (the packet's sequence: its position in the burst is its pkt_idx).
    const uint8_t* seq = d_scramble.size() ? d_scramble.sequence(d_next_idx) : nullptr;
    for (size_t i = 0; i < d_scramble.size(); ++i) {
        if (seq[i]) {
            d_info_llrs[i] = -d_info_llrs[i];
        }
    }
    const auto* l = d_info_llrs.data();
    meta =
        pmt::dict_add(meta, keys::payload_llrs, pmt::init_f32vector(d_payload_bits, l));
    meta = pmt::dict_add(
        meta,
        keys::crc_llrs,
        pmt::init_f32vector(d_info_llrs.size() - d_payload_bits, l + d_payload_bits));
}

int packet_deframer_impl::general_work(int,
                                       gr_vector_int& ninput_items,
                                       gr_vector_const_void_star& input_items,
                                       gr_vector_void_star&)
{
    const uint8_t* in = static_cast<const uint8_t*>(input_items[0]);
    const float* llrs = d_soft ? static_cast<const float*>(input_items[1]) : nullptr;
    const int coded_bits = d_soft ? static_cast<int>(d_soft->coded_bits()) : 0;
    int consumed = 0;
    int consumed_llrs = 0;
    while (ninput_items[0] - consumed >= static_cast<int>(d_block_bits) &&
           (!d_soft || ninput_items[1] - consumed_llrs >= coded_bits)) {
        if (!d_in_frame) {
            // burst_demapper published this before the frame's soft bits, so
            // it is queued by the time the decoded bits get here.
            const pmt::pmt_t meta = delete_head_nowait(keys::port_frames);
            if (!meta) {
                break;
            }
            uint64_t n = 0;
            if (!pmt::is_dict(meta) || !dict_get_uint(meta, keys::n_packets, n) ||
                n == 0) {
                d_drop_log(
                    d_logger, "malformed frame meta", "no n_packets; frame skipped");
                continue;
            }
            d_in_frame = true;
            // Without these keys the per-packet meta below is two conses on the frame's;
            // dict_add would first search the whole dict, twice per packet.
            d_meta =
                pmt::dict_delete(pmt::dict_delete(meta, keys::pkt_idx), keys::crc_ok);
            d_n_packets = static_cast<uint32_t>(n);
            d_next_idx = 0;
            ++d_frames_in;
        }
        const uint8_t* bits = in + consumed;
        if (d_scramble.size()) {
            // Descramble payload + CRC (the same XOR as the transmitter's; the
            // packet's position in the burst is its pkt_idx).
            const uint8_t* seq = d_scramble.sequence(d_next_idx);
            for (size_t i = 0; i < d_scramble.size(); ++i) {
                d_descrambled[i] = (bits[i] & 1) ^ seq[i];
            }
            bits = d_descrambled.data();
        }
        const bool ok =
            d_crc.compute(bits, d_payload_bits) == d_crc.read_bits(bits + d_payload_bits);
        std::fill(d_payload.begin(), d_payload.end(), 0);
        for (uint32_t i = 0; i < d_payload_bits; ++i) {
            d_payload[i / 8] |= static_cast<uint8_t>((bits[i] & 1) << (7 - i % 8));
        }
        pmt::pmt_t meta =
            pmt::acons(keys::crc_ok,
                       pmt::from_bool(ok),
                       pmt::acons(keys::pkt_idx, pmt::from_uint64(d_next_idx), d_meta));
        if (d_soft && !ok) {
            add_soft_fields(llrs + consumed_llrs, meta);
        }
        message_port_pub(
            keys::port_out,
            pmt::cons(meta, pmt::init_u8vector(d_payload.size(), d_payload)));
        ++d_packets_out;
        if (!ok) {
            ++d_failed;
        }
        consumed += d_block_bits;
        consumed_llrs += coded_bits;
        if (++d_next_idx == d_n_packets) {
            d_in_frame = false;
        }
    }
    consume(0, consumed);
    if (d_soft) {
        consume(1, consumed_llrs);
    }
    return 0;
}

} /* namespace tokcom */
} /* namespace gr */
