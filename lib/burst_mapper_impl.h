/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_BURST_MAPPER_IMPL_H
#define INCLUDED_TOKCOM_BURST_MAPPER_IMPL_H

#include "drop_log.h"
#include <gnuradio/tokcom/burst_mapper.h>
#include <atomic>

namespace gr {
namespace tokcom {

class burst_mapper_impl : public burst_mapper
{
private:
    const std::vector<gr_complex> d_points;
    const uint32_t d_bps;
    const uint32_t d_coded_bits;
    const uint32_t d_symbols_per_packet;
    const uint32_t d_guard;

    bool d_in_frame = false;
    uint32_t d_packets_left = 0;
    uint32_t d_guard_left = 0;
    std::atomic<uint64_t> d_frames_out{ 0 };
    drop_log d_drop_log;

public:
    burst_mapper_impl(digital::constellation_sptr constellation,
                      uint32_t coded_bits,
                      uint32_t guard_symbols);

    void forecast(int noutput_items, gr_vector_int& ninput_items_required) override;
    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;

    uint64_t frames_out() const override { return d_frames_out; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_BURST_MAPPER_IMPL_H */
