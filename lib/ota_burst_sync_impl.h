/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_OTA_BURST_SYNC_IMPL_H
#define INCLUDED_TOKCOM_OTA_BURST_SYNC_IMPL_H

#include <gnuradio/tokcom/ota_burst_sync.h>
#include <atomic>
#include <complex>
#include <vector>

namespace gr {
namespace tokcom {

class ota_burst_sync_impl : public ota_burst_sync
{
private:
    using cd = std::complex<double>;
    // Channel taps l = -PRE_TAPS ... POST_TAPS (symbols, relative to the timing found).
    static constexpr int PRE_TAPS = 3;
    static constexpr int POST_TAPS = 5;
    static constexpr int N_TAPS = PRE_TAPS + POST_TAPS + 1;
    // Equaliser taps m = -EQ_PRE ... EQ_POST.
    static constexpr int EQ_PRE = 8;
    static constexpr int EQ_POST = 12;
    static constexpr int EQ_LEN = EQ_PRE + EQ_POST + 1;
    // Cross-correlation search: +- this many samples around the detector's estimate.
    static constexpr int SEARCH = 16;

    const ota_burst_format d_format;
    const ota_header d_link; // the link identifiers expected in headers
    const float d_detect_threshold;
    const float d_xcorr_threshold;
    const int d_sps;
    const int d_lag;    // D: samples per preamble repetition
    const int d_window; // W: samples summed by the detector
    const int d_half;   // filter delay in samples

    // Matched filter at OVERSAMPLE + 1 fractional delays (docs/ota.md).
    std::vector<std::vector<float>> d_mf;
    std::vector<gr_complex> d_ref; // preamble waveform, conjugated
    double d_ref_energy = 0;
    // A tap is kept when its power exceeds this many times its estimation variance
    // (an empty tap passes with probability exp(-4) = 1.8 %).
    static constexpr double TAP_KAPPA = 4.0;

    // Input kept since d_buf_start (absolute sample index of d_buf[0]).
    std::vector<gr_complex> d_buf;
    uint64_t d_buf_start = 0;
    uint64_t d_scan = 0; // next sample index the detector evaluates
    bool d_sums_valid = false;
    uint64_t d_sums_since = 0;
    // Detector sums over the window at n: P = sum x[i + D] conj(x[i]), E1, E2 the
    // energies of the two halves; metric |P|^2 / (E1 E2).
    struct window_sums {
        cd p = 0;
        double e1 = 0, e2 = 0;
    };
    window_sums d_sums;

    enum class state { search, header, payload };
    state d_state = state::search;
    uint64_t d_trigger = 0; // sample where the metric first crossed the threshold

    // The burst being received.
    uint64_t d_seg0 = 0;           // absolute index of d_seg[0]
    std::vector<gr_complex> d_seg; // carrier-corrected samples
    double d_cfo = 0;              // cycles/sample
    double d_t0 = 0;               // first symbol's peak, in d_seg samples
    std::vector<cd> d_h;           // channel estimate
    std::vector<gr_complex> d_eq;  // equaliser taps (conjugated), unbiased
    double d_n0_pre = 0;
    ota_header d_header;
    uint64_t d_burst_end = 0; // absolute index after the burst's last sample needed

    std::vector<gr_complex> d_out;
    size_t d_out_pos = 0;
    std::vector<std::pair<uint64_t, pmt::pmt_t>> d_tags;
    uint64_t d_queued_end = 0;

    std::atomic<uint64_t> d_detected{ 0 };
    std::atomic<uint64_t> d_header_failures{ 0 };
    std::atomic<uint64_t> d_header_mismatches{ 0 };
    std::atomic<uint64_t> d_frames_out{ 0 };

    gr_complex at(uint64_t abs) const { return d_buf[abs - d_buf_start]; }
    uint64_t buf_end() const { return d_buf_start + d_buf.size(); }
    window_sums sums_at(uint64_t n) const;
    void slide(window_sums& w, uint64_t n) const; // the window at n -> at n + 1
    uint64_t header_samples_needed() const;
    void derotate(uint64_t end);
    std::vector<gr_complex> symbols(int first, int last) const;
    // Known symbols for a least-squares channel fit and their normal equations.
    struct training {
        std::vector<gr_complex> s;         // known symbols at burst positions 0 ... K - 1
        int first = 0, last = 0;           // the equations: symbols first ... last
        std::vector<std::vector<cd>> gram; // A^H A over all N_TAPS taps
        std::vector<double> inv_diag;      // diagonal of its inverse
    };
    training d_preamble_training;
    std::vector<int> d_all_taps;
    static training make_training(std::vector<gr_complex> known);
    double fit_taps(const training& t,
                    const std::vector<gr_complex>& z,
                    const std::vector<int>& keep);
    bool fit_channel(const training& t, const std::vector<gr_complex>& z);
    bool estimate_channel();
    void refine_channel(const ota_header& h);
    void design_equaliser();
    gr_complex equalise(const std::vector<gr_complex>& z, int first, int k) const;
    bool receive_header();
    void receive_payload();
    void restart_search(uint64_t from);

public:
    ota_burst_sync_impl(const ota_burst_format& format,
                        const std::string& modulation,
                        const std::string& code,
                        const std::string& crc,
                        uint32_t tokens_per_packet,
                        uint32_t token_bits,
                        float detect_threshold,
                        float xcorr_threshold);

    void forecast(int noutput_items, gr_vector_int& ninput_items_required) override;
    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;

    uint64_t bursts_detected() const override { return d_detected; }
    uint64_t header_failures() const override { return d_header_failures; }
    uint64_t header_mismatches() const override { return d_header_mismatches; }
    uint64_t frames_out() const override { return d_frames_out; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_OTA_BURST_SYNC_IMPL_H */
