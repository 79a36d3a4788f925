/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "ota_burst_sync_impl.h"
#include <gnuradio/blocks/rotator.h>
#include <gnuradio/io_signature.h>
#include <volk/volk.h>
#include <algorithm>
#include <cmath>
#include <cstring>

namespace gr {
namespace tokcom {

namespace {

using cd = std::complex<double>;

// 1 / z without the library's overflow-safe complex division (values here are moderate).
inline cd reciprocal(cd z) { return std::conj(z) / std::norm(z); }

// Solves A x = b (small, dense) by Gaussian elimination with partial pivoting.
std::vector<cd> solve(std::vector<std::vector<cd>> a, std::vector<cd> b)
{
    const size_t n = b.size();
    for (size_t c = 0; c < n; ++c) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; ++r) {
            if (std::norm(a[r][c]) > std::norm(a[piv][c])) {
                piv = r;
            }
        }
        std::swap(a[c], a[piv]);
        std::swap(b[c], b[piv]);
        if (std::norm(a[c][c]) == 0) {
            return std::vector<cd>(n, 0);
        }
        const cd inv = reciprocal(a[c][c]);
        for (size_t r = c + 1; r < n; ++r) {
            const cd f = a[r][c] * inv;
            for (size_t k = c; k < n; ++k) {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    std::vector<cd> x(n);
    for (size_t r = n; r-- > 0;) {
        cd s = b[r];
        for (size_t k = r + 1; k < n; ++k) {
            s -= a[r][k] * x[k];
        }
        x[r] = s * reciprocal(a[r][r]);
    }
    return x;
}

// The diagonal of A^-1 (A Hermitian positive definite): Gauss-Jordan on [A | I].
std::vector<double> inverse_diagonal(std::vector<std::vector<cd>> a)
{
    const size_t n = a.size();
    std::vector<std::vector<cd>> inv(n, std::vector<cd>(n, 0));
    for (size_t i = 0; i < n; ++i) {
        inv[i][i] = 1;
    }
    for (size_t c = 0; c < n; ++c) {
        if (std::norm(a[c][c]) == 0) {
            return std::vector<double>(n, 0); // singular: no variance known
        }
        const cd p = reciprocal(a[c][c]);
        for (size_t k = 0; k < n; ++k) {
            a[c][k] *= p;
            inv[c][k] *= p;
        }
        for (size_t r = 0; r < n; ++r) {
            if (r != c && std::norm(a[r][c]) > 0) {
                const cd f = a[r][c];
                for (size_t k = 0; k < n; ++k) {
                    a[r][k] -= f * a[c][k];
                    inv[r][k] -= f * inv[c][k];
                }
            }
        }
    }
    std::vector<double> d(n);
    for (size_t i = 0; i < n; ++i) {
        d[i] = std::real(inv[i][i]);
    }
    return d;
}

// Buffered input is trimmed once this many samples before the oldest one needed.
constexpr uint64_t TRIM = 1u << 15;
// The detector's running sums are recomputed this often (bounds rounding drift).
constexpr uint64_t SUMS_REFRESH = 1u << 16;
// Floor for N0 relative to unit-energy symbols (keeps LLRs finite).
constexpr double MIN_N0 = 1e-5;

} // namespace

ota_burst_sync::sptr ota_burst_sync::make(const ota_burst_format& format,
                                          const std::string& modulation,
                                          const std::string& code,
                                          const std::string& crc,
                                          uint32_t tokens_per_packet,
                                          uint32_t token_bits,
                                          float detect_threshold,
                                          float xcorr_threshold)
{
    return gnuradio::make_block_sptr<ota_burst_sync_impl>(format,
                                                          modulation,
                                                          code,
                                                          crc,
                                                          tokens_per_packet,
                                                          token_bits,
                                                          detect_threshold,
                                                          xcorr_threshold);
}

ota_burst_sync_impl::ota_burst_sync_impl(const ota_burst_format& format,
                                         const std::string& modulation,
                                         const std::string& code,
                                         const std::string& crc,
                                         uint32_t tokens_per_packet,
                                         uint32_t token_bits,
                                         float detect_threshold,
                                         float xcorr_threshold)
    : gr::block("ota_burst_sync",
                gr::io_signature::make(1, 1, sizeof(gr_complex)),
                gr::io_signature::make(1, 1, sizeof(gr_complex))),
      d_format(format),
      d_link(ota_burst_format::link_header(
          modulation, code, crc, tokens_per_packet, token_bits)),
      d_detect_threshold(detect_threshold),
      d_xcorr_threshold(xcorr_threshold),
      d_sps(static_cast<int>(format.sps())),
      d_lag(static_cast<int>(ota_burst_format::SHORT_LEN * format.sps())),
      d_window(static_cast<int>((ota_burst_format::SHORT_REPEATS - 1) *
                                ota_burst_format::SHORT_LEN * format.sps())),
      d_half(static_cast<int>(format.filter_delay()))
{
    if (!(detect_threshold > 0 && detect_threshold < 1) ||
        !(xcorr_threshold > 0 && xcorr_threshold < 1)) {
        throw std::invalid_argument("ota_burst_sync: thresholds must be in (0, 1)");
    }

    // Matched filter taps for the fractional delays phi / OVERSAMPLE, phi = 0 ... OS:
    // output at time t = nb + mu uses samples nb - half ... nb + half + 1.
    const auto& proto = format.prototype();
    const int os = ota_burst_format::OVERSAMPLE;
    const int mid = static_cast<int>(proto.size() - 1) / 2;
    d_mf.assign(os + 1, std::vector<float>(2 * d_half + 2, 0.0f));
    for (int phi = 0; phi <= os; ++phi) {
        for (int j = 0; j < 2 * d_half + 2; ++j) {
            const int idx = mid + phi - (j - d_half) * os;
            if (idx >= 0 && idx < static_cast<int>(proto.size())) {
                d_mf[phi][j] = proto[idx];
            }
        }
    }
    for (const auto& x : format.preamble_waveform()) {
        d_ref.push_back(std::conj(x));
        d_ref_energy += std::norm(x);
    }

    for (int i = 0; i < N_TAPS; ++i) {
        d_all_taps.push_back(i);
    }
    d_preamble_training = make_training(format.preamble());
    set_tag_propagation_policy(TPP_DONT);
}

void ota_burst_sync_impl::forecast(int, gr_vector_int& ninput_items_required)
{
    ninput_items_required[0] = d_out_pos < d_out.size() ? 0 : 1;
}

ota_burst_sync_impl::window_sums ota_burst_sync_impl::sums_at(uint64_t n) const
{
    window_sums w;
    for (int i = 0; i < d_window; ++i) {
        const cd a = at(n + i), b = at(n + i + d_lag);
        w.p += b * std::conj(a);
        w.e1 += std::norm(a);
        w.e2 += std::norm(b);
    }
    return w;
}

void ota_burst_sync_impl::slide(window_sums& w, uint64_t n) const
{
    const cd a_old = at(n), b_old = at(n + d_lag);
    const cd a_new = at(n + d_window), b_new = at(n + d_window + d_lag);
    w.p += b_new * std::conj(a_new) - b_old * std::conj(a_old);
    w.e1 += std::norm(a_new) - std::norm(a_old);
    w.e2 += std::norm(b_new) - std::norm(b_old);
}

uint64_t ota_burst_sync_impl::header_samples_needed() const
{
    const int last =
        static_cast<int>(d_format.body_position(ota_burst_format::HEADER_SYMBOLS - 1));
    const uint64_t peak = 2 * d_window + d_lag;
    const uint64_t header =
        d_window + SEARCH + 2 * d_half + 4 + (last + EQ_POST + 1) * d_sps;
    return std::max(peak, header);
}

void ota_burst_sync_impl::derotate(uint64_t end)
{
    end = std::min(end, buf_end());
    d_seg.resize(end - d_seg0);
    gr::blocks::rotator rot; // VOLK's rotator, phase renormalised as it goes
    rot.set_phase_incr(gr_complex(std::polar(1.0, -2 * M_PI * d_cfo)));
    rot.rotateN(d_seg.data(),
                d_buf.data() + (d_seg0 - d_buf_start),
                static_cast<int>(d_seg.size()));
}

std::vector<gr_complex> ota_burst_sync_impl::symbols(int first, int last) const
{
    // Symbol k's peak is at d_t0 + k * sps with an integer sps, so every symbol has the
    // same fractional delay: one filter phase for the whole burst.
    const double fl = std::floor(d_t0);
    const int phi =
        static_cast<int>(std::lround((d_t0 - fl) * ota_burst_format::OVERSAMPLE));
    const float* taps = d_mf[phi].data();
    const int n = 2 * d_half + 2;
    std::vector<gr_complex> z(last - first + 1, 0);
    for (int k = first; k <= last; ++k) {
        const long start = static_cast<long>(fl) + long(k) * d_sps - d_half;
        if (start >= 0 && start + n <= static_cast<long>(d_seg.size())) {
            // A plain loop: volk_32fc_32f_dot_prod_32fc crashed inside VOLK here (Debian
            // 12's libvolk 2.5, not investigated further); 18 taps cost little anyway.
            const float* x = reinterpret_cast<const float*>(d_seg.data() + start);
            float re = 0, im = 0;
            for (int j = 0; j < n; ++j) {
                re += x[2 * j] * taps[j];
                im += x[2 * j + 1] * taps[j];
            }
            z[k - first] = gr_complex(re, im);
        }
    }
    return z;
}

ota_burst_sync_impl::training
ota_burst_sync_impl::make_training(std::vector<gr_complex> known)
{
    // Least squares over the symbols k whose taps see known symbols only:
    // z_k = sum_i h_i s_{k - l_i}, lag l_i = i - PRE_TAPS, k = POST_TAPS ... K - 1 -
    // PRE_TAPS. The normal equations' matrix depends on the known symbols only.
    training t;
    t.s = std::move(known);
    t.first = POST_TAPS;
    t.last = static_cast<int>(t.s.size()) - 1 - PRE_TAPS;
    const std::vector<cd> s(t.s.begin(), t.s.end());
    t.gram.assign(N_TAPS, std::vector<cd>(N_TAPS, 0));
    for (int i = 0; i < N_TAPS; ++i) {
        for (int j = i; j < N_TAPS; ++j) { // Hermitian: the upper half, then mirrored
            cd acc = 0;
            for (int k = t.first; k <= t.last; ++k) {
                acc += std::conj(s[k - (i - PRE_TAPS)]) * s[k - (j - PRE_TAPS)];
            }
            t.gram[i][j] = acc;
            t.gram[j][i] = std::conj(acc);
        }
    }
    // Estimation variance of each tap per unit noise: the diagonal of gram^-1.
    t.inv_diag = inverse_diagonal(t.gram);
    return t;
}

double ota_burst_sync_impl::fit_taps(const training& t,
                                     const std::vector<gr_complex>& z,
                                     const std::vector<int>& keep)
{
    const size_t m = keep.size();
    std::vector<std::vector<cd>> a(m, std::vector<cd>(m));
    std::vector<cd> b(m, 0);
    for (size_t r = 0; r < m; ++r) {
        for (size_t c = 0; c < m; ++c) {
            a[r][c] = t.gram[keep[r]][keep[c]];
        }
        const int lag = keep[r] - PRE_TAPS;
        for (int k = t.first; k <= t.last; ++k) {
            b[r] += std::conj(cd(t.s[k - lag])) * cd(z[k]);
        }
    }
    double energy = 0;
    for (int k = t.first; k <= t.last; ++k) {
        energy += std::norm(z[k]);
    }
    const auto x = solve(a, b);
    d_h.assign(N_TAPS, 0);
    double fitted = 0; // b^H x: the energy the fit explains
    for (size_t r = 0; r < m; ++r) {
        d_h[keep[r]] = x[r];
        fitted += std::real(std::conj(b[r]) * x[r]);
    }
    return std::max(energy - fitted, 0.0); // the residual's energy
}

bool ota_burst_sync_impl::fit_channel(const training& t, const std::vector<gr_complex>& z)
{
    // Every tap carries estimation noise (variance N0 [(A^H A)^-1]_ii, about N0 / 110
    // from the preamble) that the equaliser passes on; in a one-path channel the eight
    // empty taps added it for nothing (+0.15 dB at PER 1e-2, docs/ota.md). Keep the taps
    // clearly above their noise (and the strongest), then fit only those again.
    const int n_eq = t.last - t.first + 1;
    const double n0 = fit_taps(t, z, d_all_taps) / (n_eq - N_TAPS);
    int strongest = 0;
    for (int i = 1; i < N_TAPS; ++i) {
        if (std::norm(d_h[i]) > std::norm(d_h[strongest])) {
            strongest = i;
        }
    }
    std::vector<int> keep;
    for (int i = 0; i < N_TAPS; ++i) {
        if (i == strongest || std::norm(d_h[i]) > TAP_KAPPA * n0 * t.inv_diag[i]) {
            keep.push_back(i);
        }
    }
    const double res = fit_taps(t, z, keep);
    double energy = 0;
    for (const auto& h : d_h) {
        energy += std::norm(h);
    }
    d_n0_pre = std::max(res / (n_eq - static_cast<int>(keep.size())), MIN_N0 * energy);
    return energy > 0 && std::isfinite(energy);
}

bool ota_burst_sync_impl::estimate_channel()
{
    const auto& s = d_preamble_training.s;
    const int pre = static_cast<int>(ota_burst_format::PREAMBLE_LEN);
    // Pass 1: residual carrier from the phase step between the model's fit to the first
    // and the second half of the preamble; then the channel on the corrected samples.
    auto z = symbols(0, pre - 1);
    fit_taps(d_preamble_training, z, d_all_taps);
    cd first_half = 0, second_half = 0;
    const int first = d_preamble_training.first, last = d_preamble_training.last;
    const int mid = (first + last + 1) / 2;
    for (int k = first; k <= last; ++k) {
        cd model = 0;
        for (int i = 0; i < N_TAPS; ++i) {
            model += d_h[i] * cd(s[k - (i - PRE_TAPS)]);
        }
        (k < mid ? first_half : second_half) += cd(z[k]) * std::conj(model);
    }
    const double dphi = std::arg(second_half * std::conj(first_half));
    d_cfo += dphi / (2 * M_PI * (mid - first) * d_sps);
    derotate(d_seg0 + d_seg.size());
    z = symbols(0, pre - 1);
    return fit_channel(d_preamble_training, z);
}

void ota_burst_sync_impl::refine_channel(const ota_header& h)
{
    // The header passed its CRC, so its symbols and the first pilot group among them are
    // known too: 232 training symbols instead of the preamble's 128 for the payload's
    // channel estimate and equaliser (less estimation noise, most useful in multipath).
    const int last =
        static_cast<int>(d_format.body_position(ota_burst_format::HEADER_SYMBOLS - 1));
    std::vector<gr_complex> known(last + 1, 0);
    const auto& pre = d_format.preamble();
    std::copy(pre.begin(), pre.end(), known.begin());
    const auto hs = ota_burst_format::header_symbols(h);
    for (unsigned b = 0; b < ota_burst_format::HEADER_SYMBOLS; ++b) {
        known[d_format.body_position(b)] = hs[b];
    }
    const uint32_t p0 = d_format.pilot_position(0, h.n_packets);
    for (unsigned i = 0; i < ota_burst_format::PILOT_GROUP; ++i) {
        known[p0 + i] = ota_burst_format::pilot(i);
    }
    const auto saved_h = d_h;
    const double saved_n0 = d_n0_pre;
    if (fit_channel(make_training(std::move(known)), symbols(0, last))) {
        design_equaliser();
    } else {
        d_h = saved_h;
        d_n0_pre = saved_n0;
    }
}

void ota_burst_sync_impl::design_equaliser()
{
    // Unbiased MMSE: v = (G G^H + N0 I)^-1 g_0, output v^H y / (v^H g_0), where column
    // j of G holds the channel seen by symbol k + j in the window
    // y_{k-EQ_PRE..k+EQ_POST}.
    auto tap = [&](int l) {
        return l >= -PRE_TAPS && l <= POST_TAPS ? d_h[l + PRE_TAPS] : cd(0);
    };
    std::vector<std::vector<cd>> a(EQ_LEN, std::vector<cd>(EQ_LEN, 0));
    std::vector<cd> g(EQ_LEN);
    for (int m = 0; m < EQ_LEN; ++m) {
        for (int m2 = 0; m2 < EQ_LEN; ++m2) {
            cd acc = 0;
            const int lag = m - m2;
            for (int l = -PRE_TAPS; l <= POST_TAPS; ++l) {
                acc += tap(l) * std::conj(tap(l - lag));
            }
            a[m][m2] = acc + (m == m2 ? cd(d_n0_pre) : cd(0));
        }
        g[m] = tap(m - EQ_PRE);
    }
    const auto v = solve(a, g);
    cd beta = 0;
    for (int m = 0; m < EQ_LEN; ++m) {
        beta += std::conj(v[m]) * g[m];
    }
    d_eq.resize(EQ_LEN);
    for (int m = 0; m < EQ_LEN; ++m) {
        d_eq[m] = gr_complex(std::abs(beta) > 0 ? std::conj(v[m]) / beta : cd(0));
    }
}

gr_complex
ota_burst_sync_impl::equalise(const std::vector<gr_complex>& z, int first, int k) const
{
    gr_complex acc;
    volk_32fc_x2_dot_prod_32fc(
        &acc, z.data() + (k - EQ_PRE - first), d_eq.data(), EQ_LEN);
    return acc;
}

void ota_burst_sync_impl::restart_search(uint64_t from)
{
    d_scan = std::max(from, d_buf_start);
    d_sums_valid = false;
    d_state = state::search;
}

bool ota_burst_sync_impl::receive_header()
{
    // 1. The detector's peak over the next window; coarse carrier from its angle.
    double best = -1;
    uint64_t peak = d_trigger;
    cd p_best = 0;
    window_sums w = sums_at(d_trigger);
    for (uint64_t n = d_trigger; n <= d_trigger + d_window; ++n) {
        if (n > d_trigger) {
            slide(w, n - 1);
        }
        const double e = w.e1 * w.e2;
        const double m = e > 0 ? std::norm(w.p) / e : 0.0;
        if (m > best) {
            best = m;
            peak = n;
            p_best = w.p;
        }
    }
    d_cfo = std::arg(p_best) / (2 * M_PI * d_lag);

    // 2. Cross-correlation with the preamble around the detector's estimate.
    const uint64_t lowest = d_buf_start;
    const uint64_t guess = peak >= lowest + d_half + SEARCH + 2
                               ? peak - d_half - SEARCH
                               : lowest + 2; // first candidate burst start
    d_seg0 = guess - 2;
    derotate(d_trigger + header_samples_needed());
    const int n_ref = static_cast<int>(d_ref.size());
    std::vector<double> mag(2 * SEARCH + 1, 0);
    int best_i = -1;
    double best_rho = 0;
    for (int i = 0; i <= 2 * SEARCH; ++i) {
        const gr_complex* x = d_seg.data() + 2 + i;
        gr_complex c = 0;
        float e = 0;
        for (int j = 0; j < n_ref; ++j) {
            c += x[j] * d_ref[j];
            e += std::norm(x[j]);
        }
        mag[i] = std::abs(c);
        if (best_i < 0 || mag[i] > mag[best_i]) {
            best_i = i;
            best_rho = e > 0 ? std::norm(c) / (d_ref_energy * e) : 0.0;
        }
    }
    if (best_rho < d_xcorr_threshold) {
        restart_search(d_trigger + d_window);
        return false;
    }
    double frac = 0;
    if (best_i > 0 && best_i < 2 * SEARCH) {
        const double a = mag[best_i - 1], b = mag[best_i], c = mag[best_i + 1];
        const double den = a - 2 * b + c;
        frac = den < 0 ? std::clamp(0.5 * (a - c) / den, -0.5, 0.5) : 0.0;
    }
    d_t0 = 2 + best_i + frac + d_half;
    ++d_detected;

    // 3. Channel, fine carrier, N0, equaliser.
    const int pre = static_cast<int>(ota_burst_format::PREAMBLE_LEN);
    const uint64_t skip_preamble = d_seg0 + static_cast<uint64_t>(d_t0) + pre * d_sps;
    if (!estimate_channel()) {
        ++d_header_failures;
        restart_search(skip_preamble);
        return false;
    }
    design_equaliser();

    // 4. Header.
    const int hdr = static_cast<int>(ota_burst_format::HEADER_SYMBOLS);
    const int first = pre - EQ_PRE;
    const int last = static_cast<int>(d_format.body_position(hdr - 1)) + EQ_POST;
    const auto z = symbols(first, last);
    std::vector<gr_complex> y(hdr);
    for (int b = 0; b < hdr; ++b) {
        y[b] = equalise(z, first, static_cast<int>(d_format.body_position(b)));
    }
    ota_header h;
    if (!ota_burst_format::decode_header(y.data(), h)) {
        ++d_header_failures;
        d_logger->debug("header CRC failed at sample {}; burst dropped", d_seg0);
        restart_search(skip_preamble);
        return false;
    }
    if (h.modulation != d_link.modulation || h.code != d_link.code ||
        h.crc != d_link.crc || h.tokens_per_packet != d_link.tokens_per_packet ||
        h.token_bits != d_link.token_bits) {
        ++d_header_mismatches;
        d_logger->warn("burst of frame {} uses another link configuration; dropped",
                       h.frame_id);
        restart_search(skip_preamble);
        return false;
    }
    d_header = h;
    refine_channel(h);
    const int k_last = static_cast<int>(d_format.burst_symbols(h.n_packets)) - 1;
    d_burst_end = d_seg0 + static_cast<uint64_t>(std::ceil(d_t0)) +
                  (k_last + EQ_POST) * d_sps + d_half + 3;
    return true;
}

void ota_burst_sync_impl::receive_payload()
{
    derotate(d_burst_end);
    const uint32_t n_packets = d_header.n_packets;
    const int k_last = static_cast<int>(d_format.burst_symbols(n_packets)) - 1;
    const int pre = static_cast<int>(ota_burst_format::PREAMBLE_LEN);
    const int first = pre - EQ_PRE;
    const auto z = symbols(first, k_last + EQ_POST);
    std::vector<gr_complex> y(k_last + 1);
    for (int k = pre; k <= k_last; ++k) {
        y[k] = equalise(z, first, k);
    }

    // Pilot tracking: residual frequency from consecutive groups, then each group's
    // phase smoothed over +-2 groups; the preamble (phase 0 by construction of the
    // channel estimate) is the first reference point.
    const uint32_t groups = d_format.pilot_groups(n_packets);
    const unsigned pg = ota_burst_format::PILOT_GROUP;
    std::vector<double> pos(groups + 1);
    std::vector<cd> val(groups + 1);
    pos[0] = (pre - 1) / 2.0;
    val[0] = double(pg);
    for (uint32_t g = 0; g < groups; ++g) {
        const uint32_t p0 = d_format.pilot_position(g, n_packets);
        cd c = 0;
        for (unsigned i = 0; i < pg; ++i) {
            c += cd(y[p0 + i]) * std::conj(cd(ota_burst_format::pilot(g * pg + i)));
        }
        pos[g + 1] = p0 + (pg - 1) / 2.0;
        val[g + 1] = c;
    }
    double num = 0, den = 0;
    for (uint32_t g = 2; g <= groups; ++g) {
        const cd d = val[g] * std::conj(val[g - 1]);
        num += std::abs(d) * std::arg(d);
        den += std::abs(d) * (pos[g] - pos[g - 1]);
    }
    const double omega = den > 0 ? num / den : 0.0; // rad/symbol
    for (size_t i = 0; i < val.size(); ++i) {
        val[i] *= std::polar(1.0, -omega * pos[i]);
    }
    std::vector<double> theta(val.size());
    for (size_t i = 0; i < val.size(); ++i) {
        cd acc = 0;
        for (size_t j = (i >= 2 ? i - 2 : 0); j <= std::min(i + 2, val.size() - 1); ++j) {
            acc += val[j];
        }
        theta[i] = std::arg(acc);
        if (i > 0) {
            theta[i] = theta[i - 1] + std::remainder(theta[i] - theta[i - 1], 2 * M_PI);
        }
    }
    // The correction of every symbol: omega k + theta interpolated between the groups,
    // linear in k between two groups, so one phasor step per segment.
    std::vector<gr_complex> derot(k_last + 1);
    size_t seg = 0;
    cd rot = 1, step = 1;
    for (int k = pre; k <= k_last; ++k) {
        bool new_seg = k == pre;
        while (seg + 1 < pos.size() && pos[seg + 1] <= k) {
            ++seg;
            new_seg = true;
        }
        if (new_seg) {
            const double slope = seg + 1 < pos.size() ? (theta[seg + 1] - theta[seg]) /
                                                            (pos[seg + 1] - pos[seg])
                                                      : 0.0;
            const double th = theta[seg] + slope * (k - pos[seg]);
            rot = std::polar(1.0, -(omega * k + th));
            step = std::polar(1.0, -(omega + slope));
        } else {
            rot *= step;
        }
        derot[k] = gr_complex(rot);
    }

    double pilot_err = 0;
    for (uint32_t g = 0; g < groups; ++g) {
        const uint32_t p0 = d_format.pilot_position(g, n_packets);
        for (unsigned i = 0; i < pg; ++i) {
            const gr_complex r = y[p0 + i] * derot[p0 + i];
            pilot_err += std::norm(r - ota_burst_format::pilot(g * pg + i));
        }
    }
    const double n0 = std::max(pilot_err / (groups * pg), MIN_N0);

    const uint32_t body = d_format.body_symbols(n_packets);
    const size_t n_payload = size_t(n_packets) * d_format.symbols_per_packet();
    d_out.erase(d_out.begin(), d_out.begin() + d_out_pos);
    d_out_pos = 0;
    const size_t start = d_out.size();
    d_out.resize(start + n_payload);
    for (uint32_t b = ota_burst_format::HEADER_SYMBOLS; b < body; ++b) {
        const uint32_t k = d_format.body_position(b);
        d_out[start + b - ota_burst_format::HEADER_SYMBOLS] = y[k] * derot[k];
    }

    double gain = 0;
    for (const auto& h : d_h) {
        gain += std::norm(h);
    }
    const auto u = [](uint64_t v) { return pmt::from_uint64(v); };
    pmt::pmt_t meta = pmt::make_dict();
    meta = pmt::dict_add(meta, keys::frame_id, u(d_header.frame_id));
    meta = pmt::dict_add(meta, keys::n_packets, u(n_packets));
    meta = pmt::dict_add(meta, keys::label, pmt::from_long(d_header.label));
    meta = pmt::dict_add(meta, pmt::mp("model_hash"), u(d_header.model_hash));
    meta = pmt::dict_add(meta, keys::tokens_per_packet, u(d_header.tokens_per_packet));
    meta = pmt::dict_add(meta, keys::token_bits, u(d_header.token_bits));
    meta = pmt::dict_add(
        meta, keys::payload_bits, u(d_header.tokens_per_packet * d_header.token_bits));
    meta = pmt::dict_add(meta, pmt::mp("noise_var"), pmt::from_double(n0));
    meta = pmt::dict_add(meta, pmt::mp("ota_cfo"), pmt::from_double(d_cfo));
    meta = pmt::dict_add(meta,
                         pmt::mp("ota_time"),
                         u(d_seg0 + static_cast<uint64_t>(std::max(0.0, d_t0 - d_half))));
    meta = pmt::dict_add(meta, pmt::mp("ota_gain"), pmt::from_double(std::sqrt(gain)));
    d_tags.emplace_back(d_queued_end, meta);
    d_queued_end += n_payload;
    ++d_frames_out;

    restart_search(d_seg0 + static_cast<uint64_t>(d_t0) + k_last * d_sps + d_half);
}

int ota_burst_sync_impl::general_work(int noutput_items,
                                      gr_vector_int& ninput_items,
                                      gr_vector_const_void_star& input_items,
                                      gr_vector_void_star& output_items)
{
    // Output first; new input only once the last burst has gone out (bounds memory).
    const size_t n_write = std::min<size_t>(noutput_items, d_out.size() - d_out_pos);
    std::memcpy(output_items[0], d_out.data() + d_out_pos, n_write * sizeof(gr_complex));
    const uint64_t written = nitems_written(0);
    size_t t = 0;
    for (; t < d_tags.size() && d_tags[t].first < written + n_write; ++t) {
        add_item_tag(0, d_tags[t].first, keys::frame_tag, d_tags[t].second, alias_pmt());
    }
    d_tags.erase(d_tags.begin(), d_tags.begin() + t);
    d_out_pos += n_write;
    if (d_out_pos < d_out.size()) {
        consume_each(0);
        return static_cast<int>(n_write);
    }

    const gr_complex* in = static_cast<const gr_complex*>(input_items[0]);
    d_buf.insert(d_buf.end(), in, in + ninput_items[0]);

    while (d_out_pos == d_out.size()) {
        if (d_state == state::search) {
            const uint64_t reach = d_window + d_lag;
            while (d_scan + reach < buf_end()) {
                if (!d_sums_valid || d_scan - d_sums_since >= SUMS_REFRESH) {
                    d_sums = sums_at(d_scan);
                    d_sums_valid = true;
                    d_sums_since = d_scan;
                }
                const double e = d_sums.e1 * d_sums.e2;
                if (!std::isfinite(e) || !std::isfinite(std::norm(d_sums.p))) {
                    d_sums_valid = false; // garbage in the window: start the sums again
                    ++d_scan;
                    continue;
                }
                if (e > 0 && std::norm(d_sums.p) > d_detect_threshold * e) {
                    d_trigger = d_scan;
                    d_state = state::header;
                    break;
                }
                slide(d_sums, d_scan);
                ++d_scan;
            }
            if (d_state == state::search) {
                break;
            }
        }
        if (d_state == state::header) {
            if (buf_end() < d_trigger + header_samples_needed()) {
                break;
            }
            if (receive_header()) {
                d_state = state::payload;
            }
            continue;
        }
        if (d_state == state::payload) {
            if (buf_end() < d_burst_end) {
                break;
            }
            receive_payload();
        }
    }

    // Keep what the detector or the burst in progress still needs.
    uint64_t keep = d_state == state::search ? d_scan : d_seg0;
    if (d_state == state::header) {
        keep = d_trigger > uint64_t(d_half + SEARCH + 8) ? d_trigger - d_half - SEARCH - 8
                                                         : 0;
    }
    keep = std::max(keep, d_buf_start);
    if (keep - d_buf_start > TRIM) {
        d_buf.erase(d_buf.begin(), d_buf.begin() + (keep - d_buf_start));
        d_buf_start = keep;
    }
    // Consumed only now, after the search above has seen these samples: consume_each
    // advances nitems_read at once, and a caller that waits for "all samples read and
    // every detected burst finished" must not see the first before the bursts in them
    // were counted.
    consume_each(ninput_items[0]);
    return static_cast<int>(n_write);
}

} // namespace tokcom
} // namespace gr
