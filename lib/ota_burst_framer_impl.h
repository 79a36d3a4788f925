/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_OTA_BURST_FRAMER_IMPL_H
#define INCLUDED_TOKCOM_OTA_BURST_FRAMER_IMPL_H

#include <gnuradio/tokcom/ota_burst_framer.h>
#include <atomic>
#include <deque>
#include <utility>
#include <vector>

namespace gr {
namespace tokcom {

class ota_burst_framer_impl : public ota_burst_framer
{
private:
    const ota_burst_format d_format;
    const ota_header d_link; // the link identifiers; frame fields are filled per burst
    const uint32_t d_gap;

    bool d_collecting = false;
    uint64_t d_skip = 0; // symbols of a dropped frame still to skip
    ota_header d_header;
    std::vector<gr_complex> d_payload;

    std::vector<gr_complex> d_out; // samples waiting for output space
    size_t d_out_pos = 0;
    std::deque<std::pair<uint64_t, pmt::pmt_t>> d_tags; // absolute offset, key
    uint64_t d_queued_end = 0;                          // absolute index after d_out

    std::atomic<uint64_t> d_bursts_out{ 0 };
    std::atomic<uint64_t> d_frames_dropped{ 0 };

    void start_frame(const pmt::pmt_t& meta);
    void finish_burst();

public:
    ota_burst_framer_impl(const ota_burst_format& format,
                          const std::string& modulation,
                          const std::string& code,
                          const std::string& crc,
                          uint32_t tokens_per_packet,
                          uint32_t token_bits,
                          uint32_t gap_samples);

    void forecast(int noutput_items, gr_vector_int& ninput_items_required) override;
    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;

    uint64_t bursts_out() const override { return d_bursts_out; }
    uint64_t frames_dropped() const override { return d_frames_dropped; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_OTA_BURST_FRAMER_IMPL_H */
