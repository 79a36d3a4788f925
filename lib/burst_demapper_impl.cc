/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "burst_demapper_impl.h"
#include "constellation_util.h"
#include "frame_keys.h"
#include "pmt_util.h"
#include <gnuradio/io_signature.h>
#include <algorithm>
#include <cmath>
#include <limits>

namespace gr {
namespace tokcom {

namespace {
// Lower bound on N0 so that LLRs stay finite on a noiseless channel.
constexpr float MIN_NOISE_VAR = 1e-6f;
// Float LLRs are clipped here. Far above any LLR a real channel gives (16-QAM at 30 dB
// Es/N0 stays below 500), it keeps a Euclidean trellis metric (l - s)^2 exact in float:
// with unbounded LLRs the l^2 term swamps the difference between branches.
constexpr float MAX_LLR = 1000.0f;
// A burst receiver that measured a burst's N0 puts it in the frame meta (docs/ota.md).
const pmt::pmt_t NOISE_VAR_KEY = pmt::mp("noise_var");
} // namespace

burst_demapper::sptr burst_demapper::make(digital::constellation_sptr constellation,
                                          uint32_t coded_bits,
                                          uint32_t guard_symbols,
                                          float noise_var,
                                          bool quantize,
                                          float quant_scale)
{
    return gnuradio::make_block_sptr<burst_demapper_impl>(
        constellation, coded_bits, guard_symbols, noise_var, quantize, quant_scale);
}

burst_demapper_impl::burst_demapper_impl(digital::constellation_sptr constellation,
                                         uint32_t coded_bits,
                                         uint32_t guard_symbols,
                                         float noise_var,
                                         bool quantize,
                                         float quant_scale)
    : gr::block("burst_demapper",
                gr::io_signature::make(1, 1, sizeof(gr_complex)),
                // Quantised: an optional second output carries the same LLRs as floats
                // (clipped like the float output) for the soft-output decoder of failed
                // packets (packet_deframer's soft input).
                quantize
                    ? gr::io_signature::makev(1, 2, { sizeof(uint8_t), sizeof(float) })
                    : gr::io_signature::make(1, 1, sizeof(float))),
      d_demap(constellation ? constellation->points() : std::vector<gr_complex>(),
              labelled_bits_per_symbol(constellation, "burst_demapper")),
      d_bps(constellation->bits_per_symbol()),
      d_coded_bits(coded_bits),
      d_symbols_per_packet((coded_bits + d_bps - 1) / d_bps),
      d_guard(guard_symbols),
      d_quantize(quantize),
      d_quant_scale(quant_scale),
      d_noise_var_cfg(noise_var),
      d_llr(static_cast<size_t>(d_symbols_per_packet) * d_bps)
{
    if (coded_bits == 0) {
        throw std::invalid_argument("burst_demapper: coded_bits must be >= 1");
    }
    message_port_register_out(keys::port_frames);
    // work() writes whole packets: with less room it could do nothing, and the scheduler
    // would call it again at once (a busy loop until downstream frees space).
    set_min_noutput_items(static_cast<int>(d_coded_bits));
    set_tag_propagation_policy(TPP_DONT);
}

void burst_demapper_impl::forecast(int, gr_vector_int& ninput_items_required)
{
    ninput_items_required[0] =
        d_in_frame && d_guard_left == 0 ? static_cast<int>(d_symbols_per_packet) : 1;
}

float burst_demapper_impl::packet_noise_var(const gr_complex* y)
{
    const float cfg = d_noise_var_cfg;
    if (cfg > 0) {
        return cfg;
    }
    if (d_frame_noise_var > 0) {
        return std::max(d_frame_noise_var, MIN_NOISE_VAR);
    }
    if (d_guard_n0.gaps() > 0) {
        return std::max(d_guard_n0.estimate(), MIN_NOISE_VAR);
    }
    // No guard seen yet: distance to the nearest point (biased low at low SNR).
    return std::max(d_demap.nearest_point_noise_var(y, d_symbols_per_packet),
                    MIN_NOISE_VAR);
}

int burst_demapper_impl::general_work(int noutput_items,
                                      gr_vector_int& ninput_items,
                                      gr_vector_const_void_star& input_items,
                                      gr_vector_void_star& output_items)
{
    const gr_complex* in = static_cast<const gr_complex*>(input_items[0]);
    const uint64_t base = nitems_read(0);
    const int n_in = ninput_items[0];
    int consumed = 0;
    int produced = 0;
    std::vector<tag_t> tags;

    while (consumed < n_in) {
        if (d_guard_left > 0) {
            int n = std::min<int>(d_guard_left, n_in - consumed);
            // A burst that starts inside the guard ends the guard early.
            get_tags_in_range(
                tags, 0, base + consumed, base + consumed + n, keys::frame_tag);
            if (!tags.empty()) {
                n = static_cast<int>(tags.front().offset - base) - consumed;
                d_guard_left = n;
            }
            d_guard_n0.add(in + consumed, n);
            consumed += n;
            d_guard_left -= n;
            if (d_guard_left > 0) {
                break;
            }
            d_guard_n0.end_guard();
            continue;
        }
        if (!d_in_frame) {
            get_tags_in_range(tags, 0, base + consumed, base + n_in, keys::frame_tag);
            if (tags.empty()) {
                consumed = n_in; // not inside a burst: nothing to keep
                break;
            }
            consumed = static_cast<int>(tags.front().offset - base);
            const pmt::pmt_t meta = tags.front().value;
            uint64_t n_packets = 0;
            if (!pmt::is_dict(meta) || !dict_get_uint(meta, keys::n_packets, n_packets) ||
                n_packets == 0) {
                d_drop_log(
                    d_logger, "malformed frame tag", "no n_packets; burst skipped");
                ++consumed;
                continue;
            }
            d_in_frame = true;
            d_packets_left = static_cast<uint32_t>(n_packets);
            const pmt::pmt_t nv = pmt::dict_ref(meta, NOISE_VAR_KEY, pmt::PMT_NIL);
            d_frame_noise_var =
                pmt::is_real(nv) ? static_cast<float>(pmt::to_double(nv)) : 0.0f;
            ++d_frames_in;
            message_port_pub(keys::port_frames, meta);
        }
        if (n_in - consumed < static_cast<int>(d_symbols_per_packet) ||
            noutput_items - produced < static_cast<int>(d_coded_bits)) {
            break;
        }
        const gr_complex* y = in + consumed;
        const float n0 = packet_noise_var(y);
        d_n0_used = n0;
        d_demap.demap(y, d_symbols_per_packet, n0, d_llr.data());
        if (d_quantize) {
            uint8_t* out = static_cast<uint8_t*>(output_items[0]) + produced;
            for (uint32_t i = 0; i < d_coded_bits; ++i) {
                const float q = std::round(128.0f + d_quant_scale * d_llr[i]);
                out[i] = static_cast<uint8_t>(std::clamp(q, 0.0f, 255.0f));
            }
            if (output_items.size() > 1) {
                float* llr = static_cast<float*>(output_items[1]) + produced;
                for (uint32_t i = 0; i < d_coded_bits; ++i) {
                    llr[i] = std::clamp(d_llr[i], -MAX_LLR, MAX_LLR);
                }
            }
        } else {
            float* out = static_cast<float*>(output_items[0]) + produced;
            for (uint32_t i = 0; i < d_coded_bits; ++i) {
                out[i] = std::clamp(d_llr[i], -MAX_LLR, MAX_LLR);
            }
        }
        consumed += d_symbols_per_packet;
        produced += d_coded_bits;
        if (--d_packets_left == 0) {
            d_in_frame = false;
            d_guard_left = d_guard;
        }
    }
    consume_each(consumed);
    return produced;
}

} /* namespace tokcom */
} /* namespace gr */
