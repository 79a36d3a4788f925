/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_SOFT_DEMAP_H
#define INCLUDED_TOKCOM_SOFT_DEMAP_H

#include <gnuradio/gr_complex.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief Exact max-log LLRs of labelled constellation points (burst_demapper's core).
 *
 * Point i carries label i, bit b (most significant first) = (i >> (bps-1-b)) & 1.
 * LLR of bit b = (min |y-p|^2 over points with the bit 0 - min over points with the
 * bit 1) / N0, positive for 1.
 *
 * Square QAM, QPSK and BPSK are products of two one-dimensional constellations, each
 * label bit chosen by one axis: then the max-log LLR of a bit needs only the levels
 * of its axis (the other axis adds the same minimum to both terms). The constructor
 * detects that case; otherwise every point is searched.
 */
class maxlog_demapper
{
public:
    //! \p exhaustive forces the search over all points (for tests).
    maxlog_demapper(std::vector<gr_complex> points, unsigned bps, bool exhaustive = false)
        : d_points(std::move(points)), d_bps(bps), d_dist(d_points.size())
    {
        if (!exhaustive) {
            find_axis_bits();
        }
    }

    //! True if the per-axis shortcut is in use.
    bool separable() const { return !d_axis_bits.empty(); }

    //! Writes bps LLRs per symbol of \p y[0 .. n_symbols) to \p llr.
    void demap(const gr_complex* y, size_t n_symbols, float n0, float* llr)
    {
        const float inv_n0 = 1.0f / n0;
        constexpr float inf = std::numeric_limits<float>::max();
        if (separable()) {
            for (size_t s = 0; s < n_symbols; ++s) {
                for (unsigned b = 0; b < d_bps; ++b) {
                    const axis_bit& ab = d_axis_bits[b];
                    const float x = ab.imag ? y[s].imag() : y[s].real();
                    float min0 = inf, min1 = inf;
                    for (const float l : ab.levels0) {
                        min0 = std::min(min0, (x - l) * (x - l));
                    }
                    for (const float l : ab.levels1) {
                        min1 = std::min(min1, (x - l) * (x - l));
                    }
                    llr[s * d_bps + b] = (min0 - min1) * inv_n0;
                }
            }
            return;
        }
        const size_t m = d_points.size();
        for (size_t s = 0; s < n_symbols; ++s) {
            for (size_t i = 0; i < m; ++i) {
                d_dist[i] = std::norm(y[s] - d_points[i]);
            }
            for (unsigned b = 0; b < d_bps; ++b) {
                const unsigned shift = d_bps - 1 - b;
                float min0 = inf, min1 = inf;
                for (size_t i = 0; i < m; ++i) {
                    float& best = ((i >> shift) & 1) ? min1 : min0;
                    best = std::min(best, d_dist[i]);
                }
                llr[s * d_bps + b] = (min0 - min1) * inv_n0;
            }
        }
    }

    //! Mean squared distance of \p y[0 .. n) to its nearest points: an N0 estimate
    //! without a guard (biased low at low SNR, where symbols cross decision regions).
    float nearest_point_noise_var(const gr_complex* y, size_t n) const
    {
        double sum = 0;
        for (size_t s = 0; s < n; ++s) {
            float best = std::numeric_limits<float>::max();
            for (const auto& p : d_points) {
                best = std::min(best, std::norm(y[s] - p));
            }
            sum += best;
        }
        return n ? static_cast<float>(sum / n) : 0.0f;
    }

private:
    struct axis_bit {
        bool imag;
        std::vector<float> levels0; // levels of the axis where the bit is 0
        std::vector<float> levels1;
    };

    void find_axis_bits()
    {
        const size_t m = d_points.size();
        auto distinct = [&](bool imag) {
            std::vector<float> v;
            for (const auto& p : d_points) {
                const float x = imag ? p.imag() : p.real();
                if (std::none_of(v.begin(), v.end(), [&](float u) { return u == x; })) {
                    v.push_back(x);
                }
            }
            return v;
        };
        const auto re = distinct(false);
        const auto im = distinct(true);
        if (re.size() * im.size() != m) {
            return; // not a grid of points
        }
        std::vector<axis_bit> bits;
        for (unsigned b = 0; b < d_bps; ++b) {
            const unsigned shift = d_bps - 1 - b;
            bool found = false;
            for (const bool imag : { false, true }) {
                // The bit is a function of this axis if points sharing a level share
                // the bit.
                axis_bit ab{ imag, {}, {} };
                bool consistent = true;
                for (const float level : imag ? im : re) {
                    int bit = -1;
                    for (size_t i = 0; i < m && consistent; ++i) {
                        const float x = imag ? d_points[i].imag() : d_points[i].real();
                        if (x == level) {
                            const int v = (i >> shift) & 1;
                            consistent = bit < 0 || bit == v;
                            bit = v;
                        }
                    }
                    (bit ? ab.levels1 : ab.levels0).push_back(level);
                }
                if (consistent && !ab.levels0.empty() && !ab.levels1.empty()) {
                    bits.push_back(ab);
                    found = true;
                    break;
                }
            }
            if (!found) {
                return;
            }
        }
        d_axis_bits = bits;
    }

    const std::vector<gr_complex> d_points;
    const unsigned d_bps;
    std::vector<float> d_dist;         // |y - p|^2 for every point
    std::vector<axis_bit> d_axis_bits; // empty: not separable, use all points
};

/*!
 * \brief N0 from the guard symbols between bursts (sent as zeros: noise only).
 *
 * add() the received guard symbols of one gap, then end_guard(): the gap's mean
 * energy |y|^2 enters a running mean over gaps whose weight never drops below 1/16,
 * so the estimate follows a slowly changing channel. A gap with no symbols (a burst
 * that starts where the guard should) changes nothing.
 */
class guard_noise_estimator
{
public:
    void add(const gr_complex* y, size_t n)
    {
        for (size_t i = 0; i < n; ++i) {
            d_energy += std::norm(y[i]);
        }
        d_count += n;
    }

    void end_guard()
    {
        if (d_count > 0) {
            const float gap_n0 = static_cast<float>(d_energy / d_count);
            ++d_gaps;
            const float w = 1.0f / static_cast<float>(std::min<uint64_t>(d_gaps, 16));
            d_estimate = (1 - w) * d_estimate + w * gap_n0;
        }
        d_energy = 0;
        d_count = 0;
    }

    //! Number of gaps averaged so far (0: no estimate yet).
    uint64_t gaps() const { return d_gaps; }
    float estimate() const { return d_estimate; }

private:
    double d_energy = 0.0;
    uint64_t d_count = 0;
    uint64_t d_gaps = 0;
    float d_estimate = 0.0f;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_SOFT_DEMAP_H */
