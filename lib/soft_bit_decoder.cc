/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "soft_bit_decoder.h"
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gr {
namespace tokcom {

namespace {
constexpr float NEG_INF = -std::numeric_limits<float>::infinity();

// log(1 + e^-d) for d in [0, 16), step 1/16, interpolated linearly: |error| < 1.3e-4,
// about 4x faster than log1p(exp()) in the BCJR's inner loop.
constexpr int CORR_STEPS = 16;
constexpr float CORR_MAX = 16.0f;
struct correction_table {
    float v[static_cast<int>(CORR_MAX) * CORR_STEPS + 2];
    correction_table()
    {
        for (int i = 0; i < static_cast<int>(CORR_MAX) * CORR_STEPS + 2; ++i) {
            v[i] = std::log1p(std::exp(-static_cast<float>(i) / CORR_STEPS));
        }
    }
};
const correction_table CORR;

inline float max_star(float a, float b)
{
    if (a == NEG_INF) {
        return b;
    }
    if (b == NEG_INF) {
        return a;
    }
    const float d = std::fabs(a - b);
    if (d >= CORR_MAX) {
        return std::max(a, b);
    }
    const float x = d * CORR_STEPS;
    const int i = static_cast<int>(x);
    const float f = x - static_cast<float>(i);
    return std::max(a, b) + CORR.v[i] + f * (CORR.v[i + 1] - CORR.v[i]);
}
} // namespace

soft_bit_decoder::soft_bit_decoder(const std::vector<int>& polys,
                                   uint32_t info_bits,
                                   uint32_t tail_bits,
                                   bool log_map)
    : d_fsm(1, static_cast<int>(polys.size()), polys),
      d_n(static_cast<uint32_t>(polys.size())),
      d_info_bits(info_bits),
      d_steps(info_bits + tail_bits),
      d_log_map(log_map)
{
    if (polys.empty() || polys.size() > 8 || info_bits == 0) {
        throw std::invalid_argument(
            "soft_bit_decoder: need 1..8 generator polynomials and info_bits >= 1");
    }
    d_gamma.resize(static_cast<size_t>(d_steps) * d_fsm.O());
    d_alpha.resize(static_cast<size_t>(d_steps + 1) * d_fsm.S());
    d_beta.resize(static_cast<size_t>(d_steps + 1) * d_fsm.S());
}

void soft_bit_decoder::decode(const float* coded, float* info)
{
    const int n_in = d_fsm.I();
    const int n_st = d_fsm.S();
    const int n_out = d_fsm.O();
    const std::vector<int>& ns = d_fsm.NS();
    const std::vector<int>& os = d_fsm.OS();
    auto add = [this](float a, float b) {
        return d_log_map ? max_star(a, b) : std::max(a, b);
    };

    // Branch metric of output symbol o: log P(y | c) = sum_j c_j * L_j + a constant per
    // step (L = log P(1)/P(0) per coded bit), which cancels in the posteriors.
    for (uint32_t k = 0; k < d_steps; ++k) {
        const float* l = coded + static_cast<size_t>(k) * d_n;
        float* g = d_gamma.data() + static_cast<size_t>(k) * n_out;
        for (int o = 0; o < n_out; ++o) {
            float metric = 0.0f;
            for (uint32_t j = 0; j < d_n; ++j) {
                if ((o >> (d_n - 1 - j)) & 1) {
                    metric += l[j];
                }
            }
            g[o] = metric;
        }
    }
    // Forward from state 0, backward from state 0 (terminated), each step normalised so
    // that its best state is 0 (keeps floats in range on long blocks).
    std::fill(d_alpha.begin(), d_alpha.end(), NEG_INF);
    std::fill(d_beta.begin(), d_beta.end(), NEG_INF);
    d_alpha[0] = 0.0f;
    for (uint32_t k = 0; k < d_steps; ++k) {
        const float* a = d_alpha.data() + static_cast<size_t>(k) * n_st;
        float* next = d_alpha.data() + static_cast<size_t>(k + 1) * n_st;
        const float* g = d_gamma.data() + static_cast<size_t>(k) * n_out;
        for (int s = 0; s < n_st; ++s) {
            if (a[s] == NEG_INF) {
                continue;
            }
            for (int i = 0; i < n_in; ++i) {
                const int t = s * n_in + i;
                next[ns[t]] = add(next[ns[t]], a[s] + g[os[t]]);
            }
        }
        const float top = *std::max_element(next, next + n_st);
        for (int s = 0; s < n_st; ++s) {
            next[s] -= top;
        }
    }
    d_beta[static_cast<size_t>(d_steps) * n_st] = 0.0f;
    for (uint32_t k = d_steps; k-- > 0;) {
        float* b = d_beta.data() + static_cast<size_t>(k) * n_st;
        const float* after = d_beta.data() + static_cast<size_t>(k + 1) * n_st;
        const float* g = d_gamma.data() + static_cast<size_t>(k) * n_out;
        for (int s = 0; s < n_st; ++s) {
            for (int i = 0; i < n_in; ++i) {
                const int t = s * n_in + i;
                if (after[ns[t]] != NEG_INF) {
                    b[s] = add(b[s], g[os[t]] + after[ns[t]]);
                }
            }
        }
        const float top = *std::max_element(b, b + n_st);
        for (int s = 0; s < n_st; ++s) {
            b[s] -= top;
        }
    }
    // Posterior of input bit u at step k: over the transitions with input u.
    for (uint32_t k = 0; k < d_info_bits; ++k) {
        const float* a = d_alpha.data() + static_cast<size_t>(k) * n_st;
        const float* after = d_beta.data() + static_cast<size_t>(k + 1) * n_st;
        const float* g = d_gamma.data() + static_cast<size_t>(k) * n_out;
        float p[2] = { NEG_INF, NEG_INF };
        for (int s = 0; s < n_st; ++s) {
            if (a[s] == NEG_INF) {
                continue;
            }
            for (int i = 0; i < n_in; ++i) {
                const int t = s * n_in + i;
                if (after[ns[t]] != NEG_INF) {
                    p[i] = add(p[i], a[s] + g[os[t]] + after[ns[t]]);
                }
            }
        }
        info[k] = p[1] - p[0];
    }
}

} /* namespace tokcom */
} /* namespace gr */
