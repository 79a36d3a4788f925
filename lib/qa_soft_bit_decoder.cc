/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// Checks soft_bit_decoder's posterior LLRs against brute-force enumeration of every
// codeword of short blocks, with an encoder written here from the definition
// (shift register, octal generators, MSB = current input), not gr-trellis'.

#include "soft_bit_decoder.h"
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>

namespace gr {
namespace tokcom {

namespace {

int parity(unsigned x) { return __builtin_popcount(x) & 1; }

// Coded bits of info + tail zeros: per step, bit j = parity(register & polys[j]),
// register = (input << (K-1)) | previous K-1 inputs (most recent highest).
std::vector<int>
encode(const std::vector<int>& info, const std::vector<int>& polys, int k)
{
    std::vector<int> out;
    unsigned reg = 0;
    std::vector<int> in = info;
    in.resize(info.size() + k - 1, 0);
    for (int u : in) {
        reg = (reg >> 1) | (static_cast<unsigned>(u) << (k - 1));
        for (int g : polys) {
            out.push_back(parity(reg & static_cast<unsigned>(g)));
        }
    }
    return out;
}

double log_add(double a, double b)
{
    if (a == -INFINITY) {
        return b;
    }
    const double m = std::max(a, b);
    return m + std::log1p(std::exp(-std::fabs(a - b)));
}

// Exact posterior LLRs (log-MAP) or max-log LLRs by enumerating all 2^n messages:
// log P(c | y) = sum_j c_j * L_j + const for independent bits with LLRs L_j.
std::vector<double> brute_force(const std::vector<float>& llr,
                                const std::vector<int>& polys,
                                int k,
                                int n_info,
                                bool log_map)
{
    std::vector<double> num(n_info, -INFINITY), den(n_info, -INFINITY);
    for (unsigned msg = 0; msg < (1u << n_info); ++msg) {
        std::vector<int> info(n_info);
        for (int i = 0; i < n_info; ++i) {
            info[i] = (msg >> i) & 1;
        }
        const auto c = encode(info, polys, k);
        double metric = 0;
        for (size_t j = 0; j < c.size(); ++j) {
            metric += c[j] * llr[j];
        }
        for (int i = 0; i < n_info; ++i) {
            double& acc = info[i] ? num[i] : den[i];
            acc = log_map ? log_add(acc, metric) : std::max(acc, metric);
        }
    }
    std::vector<double> out(n_info);
    for (int i = 0; i < n_info; ++i) {
        out[i] = num[i] - den[i];
    }
    return out;
}

void check_against_brute_force(const std::vector<int>& polys, int k, bool log_map)
{
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    std::bernoulli_distribution coin(0.5);
    for (const int n_info : { 1, 5, 10 }) {
        soft_bit_decoder dec(polys, n_info, k - 1, log_map);
        BOOST_REQUIRE_EQUAL(dec.coded_bits(), polys.size() * (n_info + k - 1));
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<int> info(n_info);
            for (auto& b : info) {
                b = coin(rng);
            }
            // BPSK-like channel LLRs around +-2 with unit-variance noise: a mix of
            // reliable and wrong bits.
            const auto c = encode(info, polys, k);
            std::vector<float> llr(c.size());
            for (size_t j = 0; j < c.size(); ++j) {
                llr[j] = 2.0f * (2 * c[j] - 1) + 2.0f * noise(rng);
            }
            std::vector<float> out(n_info);
            dec.decode(llr.data(), out.data());
            const auto ref = brute_force(llr, polys, k, n_info, log_map);
            for (int i = 0; i < n_info; ++i) {
                BOOST_CHECK_SMALL(out[i] - ref[i], 1e-3 * (1.0 + std::fabs(ref[i])));
            }
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(log_map_k3_matches_brute_force)
{
    check_against_brute_force({ 05, 07 }, 3, true);
}

BOOST_AUTO_TEST_CASE(log_map_k7_matches_brute_force)
{
    check_against_brute_force({ 0133, 0171 }, 7, true);
}

BOOST_AUTO_TEST_CASE(max_log_k7_matches_brute_force)
{
    check_against_brute_force({ 0133, 0171 }, 7, false);
}

BOOST_AUTO_TEST_CASE(noiseless_codeword_gives_its_bits)
{
    // Large channel LLRs: every posterior has the sign of the sent bit.
    const std::vector<int> polys = { 0133, 0171 };
    const std::vector<int> info = { 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0 };
    const auto c = encode(info, polys, 7);
    std::vector<float> llr(c.size());
    for (size_t j = 0; j < c.size(); ++j) {
        llr[j] = c[j] ? 8.0f : -8.0f;
    }
    soft_bit_decoder dec(polys, info.size(), 6);
    std::vector<float> out(info.size());
    dec.decode(llr.data(), out.data());
    for (size_t i = 0; i < info.size(); ++i) {
        BOOST_CHECK_EQUAL(out[i] > 0, info[i] == 1);
        BOOST_CHECK_GT(std::fabs(out[i]), 20.0f);
    }
}

} // namespace tokcom
} // namespace gr
