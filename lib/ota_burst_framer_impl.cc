/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "ota_burst_framer_impl.h"
#include "pmt_util.h"
#include <gnuradio/io_signature.h>
#include <algorithm>
#include <cstring>

namespace gr {
namespace tokcom {

namespace {
const pmt::pmt_t TX_SOB = pmt::mp("tx_sob");
const pmt::pmt_t TX_EOB = pmt::mp("tx_eob");
} // namespace

ota_burst_framer::sptr ota_burst_framer::make(const ota_burst_format& format,
                                              const std::string& modulation,
                                              const std::string& code,
                                              const std::string& crc,
                                              uint32_t tokens_per_packet,
                                              uint32_t token_bits,
                                              uint32_t gap_samples)
{
    return gnuradio::make_block_sptr<ota_burst_framer_impl>(
        format, modulation, code, crc, tokens_per_packet, token_bits, gap_samples);
}

ota_burst_framer_impl::ota_burst_framer_impl(const ota_burst_format& format,
                                             const std::string& modulation,
                                             const std::string& code,
                                             const std::string& crc,
                                             uint32_t tokens_per_packet,
                                             uint32_t token_bits,
                                             uint32_t gap_samples)
    : gr::block("ota_burst_framer",
                gr::io_signature::make(1, 1, sizeof(gr_complex)),
                gr::io_signature::make(1, 1, sizeof(gr_complex))),
      d_format(format),
      d_link(ota_burst_format::link_header(
          modulation, code, crc, tokens_per_packet, token_bits)),
      d_gap(gap_samples)
{
    set_tag_propagation_policy(TPP_DONT);
}

void ota_burst_framer_impl::forecast(int, gr_vector_int& ninput_items_required)
{
    ninput_items_required[0] = d_out_pos < d_out.size() ? 0 : 1;
}

void ota_burst_framer_impl::start_frame(const pmt::pmt_t& meta)
{
    uint64_t id = 0, n = 0;
    if (!pmt::is_dict(meta) || !dict_get_uint(meta, keys::frame_id, id) ||
        !dict_get_uint(meta, keys::n_packets, n) || n < 1 ||
        n > ota_burst_format::MAX_PACKETS) {
        ++d_frames_dropped;
        d_logger->error("frame meta without frame_id or with n_packets out of 1..{}; "
                        "frame dropped",
                        ota_burst_format::MAX_PACKETS);
        d_skip = n * d_format.symbols_per_packet();
        return;
    }
    d_header = d_link;
    d_header.frame_id = static_cast<uint32_t>(id & 0xFFFF);
    d_header.n_packets = static_cast<uint32_t>(n);
    const pmt::pmt_t label = pmt::dict_ref(meta, keys::label, pmt::PMT_NIL);
    d_header.label =
        pmt::is_integer(label)
            ? static_cast<int32_t>(std::clamp<long>(pmt::to_long(label), -1, 4094))
            : -1;
    const pmt::pmt_t model = pmt::dict_ref(meta, keys::model_id, pmt::PMT_NIL);
    d_header.model_hash = pmt::is_symbol(model)
                              ? ota_burst_format::model_hash(pmt::symbol_to_string(model))
                              : 0;
    d_payload.clear();
    d_payload.reserve(n * d_format.symbols_per_packet());
    d_collecting = true;
}

void ota_burst_framer_impl::finish_burst()
{
    const auto samples = d_format.modulate(d_format.burst(d_header, d_payload));
    d_out.erase(d_out.begin(), d_out.begin() + d_out_pos);
    d_out_pos = 0;
    d_tags.emplace_back(d_queued_end, TX_SOB);
    d_tags.emplace_back(d_queued_end + samples.size() - 1, TX_EOB);
    d_out.insert(d_out.end(), samples.begin(), samples.end());
    d_out.insert(d_out.end(), d_gap, gr_complex(0, 0));
    d_queued_end += samples.size() + d_gap;
    d_collecting = false;
    ++d_bursts_out;
}

int ota_burst_framer_impl::general_work(int noutput_items,
                                        gr_vector_int& ninput_items,
                                        gr_vector_const_void_star& input_items,
                                        gr_vector_void_star& output_items)
{
    const gr_complex* in = static_cast<const gr_complex*>(input_items[0]);
    const uint64_t base = nitems_read(0);
    const int n_in = ninput_items[0];
    int consumed = 0;
    std::vector<tag_t> tags;

    // Take input only when the previous burst has gone out: bounds the memory.
    while (d_out_pos == d_out.size() && consumed < n_in) {
        if (d_skip > 0) {
            const int n = static_cast<int>(std::min<uint64_t>(d_skip, n_in - consumed));
            consumed += n;
            d_skip -= n;
            continue;
        }
        if (!d_collecting) {
            get_tags_in_range(tags, 0, base + consumed, base + n_in, keys::frame_tag);
            if (tags.empty()) {
                consumed = n_in; // symbols outside a frame: nothing to send
                break;
            }
            consumed = static_cast<int>(tags.front().offset - base);
            start_frame(tags.front().value);
            if (!d_collecting && d_skip == 0) {
                ++consumed; // a dropped frame with nothing to skip: past its tag
            }
            continue;
        }
        const size_t want =
            size_t(d_header.n_packets) * d_format.symbols_per_packet() - d_payload.size();
        const int n = static_cast<int>(std::min<size_t>(want, n_in - consumed));
        d_payload.insert(d_payload.end(), in + consumed, in + consumed + n);
        consumed += n;
        if (d_payload.size() ==
            size_t(d_header.n_packets) * d_format.symbols_per_packet()) {
            finish_burst();
        }
    }
    consume_each(consumed);

    const size_t n = std::min<size_t>(noutput_items, d_out.size() - d_out_pos);
    std::memcpy(output_items[0], d_out.data() + d_out_pos, n * sizeof(gr_complex));
    const uint64_t first = nitems_written(0);
    while (!d_tags.empty() && d_tags.front().first < first + n) {
        add_item_tag(
            0, d_tags.front().first, d_tags.front().second, pmt::PMT_T, alias_pmt());
        d_tags.pop_front();
    }
    d_out_pos += n;
    return static_cast<int>(n);
}

} // namespace tokcom
} // namespace gr
