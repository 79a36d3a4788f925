/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// burst_demapper's internals (lib/soft_demap.h): the per-axis max-log shortcut against
// the exhaustive search and a double-precision reference, and the N0 estimators.

#include "soft_demap.h"
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

namespace gr {
namespace tokcom {

namespace {

// 3GPP TS 38.211 5.1 labelling (the link's, docs/link.md), point i = label i.
std::vector<gr_complex> qam16()
{
    std::vector<gr_complex> p;
    for (int i = 0; i < 16; ++i) {
        const int b0 = (i >> 3) & 1, b1 = (i >> 2) & 1, b2 = (i >> 1) & 1, b3 = i & 1;
        p.emplace_back((1 - 2 * b0) * (2 - (1 - 2 * b2)) / std::sqrt(10.0f),
                       (1 - 2 * b1) * (2 - (1 - 2 * b3)) / std::sqrt(10.0f));
    }
    return p;
}

std::vector<gr_complex> qpsk()
{
    std::vector<gr_complex> p;
    for (int i = 0; i < 4; ++i) {
        p.emplace_back((1 - 2 * ((i >> 1) & 1)) / std::sqrt(2.0f),
                       (1 - 2 * (i & 1)) / std::sqrt(2.0f));
    }
    return p;
}

std::vector<gr_complex> psk8() // not a product of two axes
{
    std::vector<gr_complex> p;
    for (int i = 0; i < 8; ++i) {
        p.push_back(std::polar(1.0f, float(2 * M_PI * i / 8)));
    }
    return p;
}

// The definition in double precision: (min over bit 0 - min over bit 1) / N0.
double reference_llr(
    const std::vector<gr_complex>& pts, unsigned bps, gr_complex y, unsigned b, double n0)
{
    double min0 = 1e300, min1 = 1e300;
    for (size_t i = 0; i < pts.size(); ++i) {
        const double d =
            std::norm(std::complex<double>(y) - std::complex<double>(pts[i]));
        double& m = ((i >> (bps - 1 - b)) & 1) ? min1 : min0;
        m = std::min(m, d);
    }
    return (min0 - min1) / n0;
}

std::vector<gr_complex> noisy(size_t n, double sigma, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, float(sigma));
    std::uniform_real_distribution<float> u(-1.3f, 1.3f);
    std::vector<gr_complex> y(n);
    for (auto& v : y) {
        v = gr_complex(u(rng) + g(rng), u(rng) + g(rng));
    }
    return y;
}

} // namespace

BOOST_AUTO_TEST_CASE(per_axis_llrs_equal_the_exhaustive_search)
{
    const std::pair<std::vector<gr_complex>, unsigned> cases[] = { { qam16(), 4 },
                                                                   { qpsk(), 2 } };
    for (const auto& [pts, bps] : cases) {
        maxlog_demapper fast(pts, bps);
        maxlog_demapper slow(pts, bps, true);
        BOOST_CHECK(fast.separable());
        BOOST_CHECK(!slow.separable());
        const auto y = noisy(500, 0.3, bps);
        const float n0 = 0.25f;
        std::vector<float> a(y.size() * bps), b(a.size());
        fast.demap(y.data(), y.size(), n0, a.data());
        slow.demap(y.data(), y.size(), n0, b.data());
        for (size_t s = 0; s < y.size(); ++s) {
            for (unsigned k = 0; k < bps; ++k) {
                const double ref = reference_llr(pts, bps, y[s], k, n0);
                const float tol = 1e-4f * (1.0f + std::abs(float(ref)));
                BOOST_CHECK_SMALL(a[s * bps + k] - float(ref), tol);
                BOOST_CHECK_SMALL(b[s * bps + k] - float(ref), tol);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(non_grid_constellation_uses_all_points)
{
    const auto pts = psk8();
    maxlog_demapper d(pts, 3);
    BOOST_CHECK(!d.separable());
    const auto y = noisy(100, 0.2, 9);
    std::vector<float> llr(y.size() * 3);
    d.demap(y.data(), y.size(), 0.5f, llr.data());
    for (size_t s = 0; s < y.size(); ++s) {
        for (unsigned k = 0; k < 3; ++k) {
            const double ref = reference_llr(pts, 3, y[s], k, 0.5);
            BOOST_CHECK_SMALL(llr[s * 3 + k] - float(ref),
                              1e-4f * (1.0f + float(std::abs(ref))));
        }
    }
}

BOOST_AUTO_TEST_CASE(llr_sign_follows_the_label)
{
    // On a point, every LLR points to that point's label bits (positive = 1).
    const auto pts = qam16();
    maxlog_demapper d(pts, 4);
    std::vector<float> llr(pts.size() * 4);
    d.demap(pts.data(), pts.size(), 0.1f, llr.data());
    for (size_t i = 0; i < pts.size(); ++i) {
        for (unsigned b = 0; b < 4; ++b) {
            BOOST_CHECK_EQUAL(llr[i * 4 + b] > 0, bool((i >> (3 - b)) & 1));
        }
    }
}

BOOST_AUTO_TEST_CASE(nearest_point_noise_var)
{
    const auto pts = qam16();
    maxlog_demapper d(pts, 4);
    BOOST_CHECK_EQUAL(d.nearest_point_noise_var(pts.data(), pts.size()), 0.0f);
    // Every point moved by 0.1 towards the origin's side it cannot cross: |offset|^2 =
    // 0.01
    std::vector<gr_complex> y;
    for (const auto& p : pts) {
        y.push_back(p + gr_complex(0.1f, 0.0f) * (p.real() > 0 ? 1.0f : -1.0f));
    }
    BOOST_CHECK_CLOSE(d.nearest_point_noise_var(y.data(), y.size()), 0.01f, 1e-3);
    BOOST_CHECK_EQUAL(d.nearest_point_noise_var(y.data(), 0), 0.0f);
}

BOOST_AUTO_TEST_CASE(guard_estimator_averages_gap_energies)
{
    guard_noise_estimator est;
    BOOST_CHECK_EQUAL(est.gaps(), 0u);
    // One gap of 8 symbols of energy 0.5 each.
    const std::vector<gr_complex> g1(8, gr_complex(0.5f, 0.5f));
    est.add(g1.data(), 5); // a gap may arrive in pieces
    est.add(g1.data() + 5, 3);
    est.end_guard();
    BOOST_CHECK_EQUAL(est.gaps(), 1u);
    BOOST_CHECK_CLOSE(est.estimate(), 0.5f, 1e-4);
    // An empty gap (a burst where the guard should be) changes nothing.
    est.end_guard();
    BOOST_CHECK_EQUAL(est.gaps(), 1u);
    // Second gap, energy 0.1: running mean of the first 16 gaps is the plain mean.
    const std::vector<gr_complex> g2(3, gr_complex(0.0f, std::sqrt(0.1f)));
    est.add(g2.data(), g2.size());
    est.end_guard();
    BOOST_CHECK_CLOSE(est.estimate(), 0.3f, 1e-3);
    // After many gaps the weight stays 1/16: the estimate follows a new level.
    for (int i = 0; i < 200; ++i) {
        est.add(g2.data(), g2.size());
        est.end_guard();
    }
    BOOST_CHECK_CLOSE(est.estimate(), 0.1f, 1e-2);
    const float before = est.estimate();
    est.add(g1.data(), g1.size()); // one gap of energy 0.5
    est.end_guard();
    BOOST_CHECK_CLOSE(est.estimate(), before + (0.5f - before) / 16, 1e-3);
}

} // namespace tokcom
} // namespace gr
