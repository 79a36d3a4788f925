/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "burst_mapper_impl.h"
#include "constellation_util.h"
#include "frame_keys.h"
#include "pmt_util.h"
#include <gnuradio/io_signature.h>
#include <algorithm>

namespace gr {
namespace tokcom {

burst_mapper::sptr burst_mapper::make(digital::constellation_sptr constellation,
                                      uint32_t coded_bits,
                                      uint32_t guard_symbols)
{
    return gnuradio::make_block_sptr<burst_mapper_impl>(
        constellation, coded_bits, guard_symbols);
}

burst_mapper_impl::burst_mapper_impl(digital::constellation_sptr constellation,
                                     uint32_t coded_bits,
                                     uint32_t guard_symbols)
    : gr::block("burst_mapper",
                gr::io_signature::make(1, 1, sizeof(uint8_t)),
                gr::io_signature::make(1, 1, sizeof(gr_complex))),
      d_points(constellation ? constellation->points() : std::vector<gr_complex>()),
      d_bps(labelled_bits_per_symbol(constellation, "burst_mapper")),
      d_coded_bits(coded_bits),
      d_symbols_per_packet((coded_bits + d_bps - 1) / d_bps),
      d_guard(guard_symbols)
{
    if (coded_bits == 0) {
        throw std::invalid_argument("burst_mapper: coded_bits must be >= 1");
    }
    message_port_register_in(keys::port_frames);
    // work() writes whole packets: with less room it could do nothing, and the scheduler
    // would call it again at once (a busy loop until downstream frees space).
    set_min_noutput_items(static_cast<int>(d_symbols_per_packet));
    set_tag_propagation_policy(TPP_DONT);
}

void burst_mapper_impl::forecast(int, gr_vector_int& ninput_items_required)
{
    // A whole packet at a time; nothing while writing the guard.
    ninput_items_required[0] = d_guard_left > 0 ? 0 : static_cast<int>(d_coded_bits);
}

int burst_mapper_impl::general_work(int noutput_items,
                                    gr_vector_int& ninput_items,
                                    gr_vector_const_void_star& input_items,
                                    gr_vector_void_star& output_items)
{
    const uint8_t* in = static_cast<const uint8_t*>(input_items[0]);
    gr_complex* out = static_cast<gr_complex*>(output_items[0]);
    int consumed = 0;
    int produced = 0;

    while (true) {
        if (d_guard_left > 0) {
            const int n = std::min<int>(d_guard_left, noutput_items - produced);
            std::fill(out + produced, out + produced + n, gr_complex(0, 0));
            produced += n;
            d_guard_left -= n;
            if (d_guard_left > 0) {
                break;
            }
        }
        if (!d_in_frame) {
            const pmt::pmt_t meta = delete_head_nowait(keys::port_frames);
            if (!meta) {
                break;
            }
            uint64_t n_packets = 0;
            if (!pmt::is_dict(meta) || !dict_get_uint(meta, keys::n_packets, n_packets) ||
                n_packets == 0) {
                d_drop_log(
                    d_logger, "malformed frame meta", "no n_packets; burst skipped");
                continue;
            }
            d_in_frame = true;
            d_packets_left = static_cast<uint32_t>(n_packets);
            add_item_tag(
                0, nitems_written(0) + produced, keys::frame_tag, meta, alias_pmt());
        }
        if (ninput_items[0] - consumed < static_cast<int>(d_coded_bits) ||
            noutput_items - produced < static_cast<int>(d_symbols_per_packet)) {
            break;
        }
        const uint8_t* bits = in + consumed;
        for (uint32_t s = 0; s < d_symbols_per_packet; ++s) {
            uint32_t label = 0;
            for (uint32_t b = 0; b < d_bps; ++b) {
                const uint32_t i = s * d_bps + b;
                label = (label << 1) | (i < d_coded_bits ? (bits[i] & 1u) : 0u);
            }
            out[produced + s] = d_points[label];
        }
        consumed += d_coded_bits;
        produced += d_symbols_per_packet;
        if (--d_packets_left == 0) {
            d_in_frame = false;
            d_guard_left = d_guard;
            ++d_frames_out;
        }
    }
    consume_each(consumed);
    return produced;
}

} /* namespace tokcom */
} /* namespace gr */
