/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_BURST_DEMAPPER_IMPL_H
#define INCLUDED_TOKCOM_BURST_DEMAPPER_IMPL_H

#include <gnuradio/tokcom/burst_demapper.h>
#include <atomic>

namespace gr {
namespace tokcom {

class burst_demapper_impl : public burst_demapper
{
private:
    const std::vector<gr_complex> d_points;
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

    // Guard-based N0 estimate: running mean over frames (weight >= 1/16).
    double d_guard_energy = 0.0;
    uint32_t d_guard_count = 0;
    float d_n0_est = 0.0f;
    uint64_t d_n0_frames = 0;
    std::atomic<float> d_n0_used{ 0.0f };
    std::atomic<uint64_t> d_frames_in{ 0 };

    std::vector<float> d_dist; // |y - p|^2 for every point
    std::vector<float> d_llr;  // one packet's soft bits

    // Square QAM, QPSK and BPSK are products of two one-dimensional constellations,
    // each label bit chosen by one axis: then the max-log LLR of a bit needs only the
    // levels of its axis (the other axis adds the same minimum to both terms).
    struct axis_bit {
        bool imag;
        std::vector<float> levels0; // levels of the axis where the bit is 0
        std::vector<float> levels1;
    };
    std::vector<axis_bit> d_axis_bits; // empty: not separable, use all points
    void find_axis_bits();

    float packet_noise_var(const gr_complex* y);
    void demap_packet(const gr_complex* y, float n0);

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
