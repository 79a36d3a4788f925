/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_BURST_DEMAPPER_IMPL_H
#define INCLUDED_TOKCOM_BURST_DEMAPPER_IMPL_H

#include "drop_log.h"
#include "soft_demap.h"
#include <gnuradio/tokcom/burst_demapper.h>
#include <atomic>

namespace gr {
namespace tokcom {

class burst_demapper_impl : public burst_demapper
{
private:
    maxlog_demapper d_demap;
    const uint32_t d_bps;
    const uint32_t d_coded_bits;
    const uint32_t d_symbols_per_packet;
    const uint32_t d_guard;
    const bool d_quantize;
    const float d_quant_scale;
    std::atomic<float> d_noise_var_cfg;

    bool d_in_frame = false;
    uint32_t d_packets_left = 0;
    uint32_t d_guard_left = 0;
    float d_frame_noise_var = 0; // from the frame meta's noise_var, 0 = none

    guard_noise_estimator d_guard_n0;
    std::atomic<float> d_n0_used{ 0.0f };
    std::atomic<uint64_t> d_frames_in{ 0 };
    drop_log d_drop_log;

    std::vector<float> d_llr; // one packet's soft bits

    float packet_noise_var(const gr_complex* y);

public:
    burst_demapper_impl(digital::constellation_sptr constellation,
                        uint32_t coded_bits,
                        uint32_t guard_symbols,
                        float noise_var,
                        bool quantize,
                        float quant_scale);

    void forecast(int noutput_items, gr_vector_int& ninput_items_required) override;
    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;

    void set_noise_var(float noise_var) override { d_noise_var_cfg = noise_var; }
    float noise_var() const override { return d_n0_used; }
    uint64_t frames_in() const override { return d_frames_in; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_BURST_DEMAPPER_IMPL_H */
