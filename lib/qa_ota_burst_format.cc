/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// Checks ota_burst_format against docs/ota.md: header round trip, layout, preamble.

#include <gnuradio/tokcom/ota_burst_format.h>
#include <boost/test/unit_test.hpp>
#include <cmath>

namespace gr {
namespace tokcom {

namespace {
ota_header example_header()
{
    ota_header h;
    h.frame_id = 0xBEEF;
    h.n_packets = 64;
    h.label = 7;
    h.modulation = ota_burst_format::id_of(ota_burst_format::modulations(), "16qam");
    h.code = ota_burst_format::id_of(ota_burst_format::codes(), "cc_k7");
    h.crc = ota_burst_format::id_of(ota_burst_format::crcs(), "crc16");
    h.tokens_per_packet = 4;
    h.token_bits = 10;
    h.model_hash = ota_burst_format::model_hash("fashion-mnist-vq");
    return h;
}
} // namespace

BOOST_AUTO_TEST_CASE(header_round_trip)
{
    const ota_header h = example_header();
    const auto y = ota_burst_format::header_symbols(h);
    BOOST_REQUIRE_EQUAL(y.size(), ota_burst_format::HEADER_SYMBOLS);
    ota_header got;
    BOOST_REQUIRE(ota_burst_format::decode_header(y.data(), got));
    BOOST_CHECK(got == h);
}

BOOST_AUTO_TEST_CASE(header_field_bits_match_spec)
{
    // docs/ota.md: version 00, frame_id 16 bits MSB first, n_packets 12 bits, ...
    const auto bits = ota_burst_format::header_bits(example_header());
    BOOST_REQUIRE_EQUAL(bits.size(), 94u);
    BOOST_CHECK_EQUAL(bits[0] | bits[1], 0);
    uint32_t id = 0;
    for (int i = 2; i < 18; ++i) {
        id = (id << 1) | bits[i];
    }
    BOOST_CHECK_EQUAL(id, 0xBEEFu);
    uint32_t n = 0;
    for (int i = 18; i < 30; ++i) {
        n = (n << 1) | bits[i];
    }
    BOOST_CHECK_EQUAL(n, 64u);
}

BOOST_AUTO_TEST_CASE(header_corrects_errors_and_detects_garbage)
{
    const ota_header h = example_header();
    auto y = ota_burst_format::header_symbols(h);
    // Three symbols flipped far apart: the K = 7 code corrects them.
    for (const int k : { 5, 40, 80 }) {
        y[k] = -y[k];
    }
    ota_header got;
    BOOST_REQUIRE(ota_burst_format::decode_header(y.data(), got));
    BOOST_CHECK(got == h);
    // Half the header replaced: the CRC rejects it.
    for (int k = 30; k < 80; ++k) {
        y[k] = gr_complex(y[k].imag(), -y[k].real()) * float((k * 7) % 3 - 1);
    }
    BOOST_CHECK(!ota_burst_format::decode_header(y.data(), got));
}

BOOST_AUTO_TEST_CASE(header_rejects_out_of_range_fields)
{
    ota_header h = example_header();
    h.n_packets = 0;
    BOOST_CHECK_THROW(ota_burst_format::header_bits(h), std::invalid_argument);
    h = example_header();
    h.label = 4095;
    BOOST_CHECK_THROW(ota_burst_format::header_bits(h), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(layout_counts_every_symbol)
{
    const ota_burst_format f(2, 0.35, 31);
    // 64 packets of 31 symbols + 100 header = 2084 body symbols, 33 pilot groups.
    BOOST_CHECK_EQUAL(f.body_symbols(64), 2084u);
    BOOST_CHECK_EQUAL(f.pilot_groups(64), 33u);
    BOOST_CHECK_EQUAL(f.burst_symbols(64), 128u + 2084u + 132u);
    BOOST_CHECK_EQUAL(f.burst_samples(64), (f.burst_symbols(64) - 1) * 2 + 17);
    BOOST_CHECK_EQUAL(f.body_position(0), 128u);
    BOOST_CHECK_EQUAL(f.body_position(64), 128u + 64 + 4);
    BOOST_CHECK_EQUAL(f.pilot_position(0, 64), 128u + 64);
    BOOST_CHECK_EQUAL(f.pilot_position(32, 64), 128u + 2084 + 32 * 4);
    std::vector<gr_complex> payload(64 * 31, gr_complex(1, 0));
    const auto burst = f.burst(example_header(), payload);
    BOOST_CHECK_EQUAL(burst.size(), f.burst_symbols(64));
    BOOST_CHECK_EQUAL(f.modulate(burst).size(), f.burst_samples(64));
    for (uint32_t g = 0; g < f.pilot_groups(64); ++g) {
        for (unsigned i = 0; i < ota_burst_format::PILOT_GROUP; ++i) {
            BOOST_CHECK(burst[f.pilot_position(g, 64) + i] ==
                        ota_burst_format::pilot(g * ota_burst_format::PILOT_GROUP + i));
        }
    }
}

BOOST_AUTO_TEST_CASE(preamble_repeats_and_pulse_is_nyquist)
{
    const ota_burst_format f(2, 0.35, 31);
    const auto& p = f.preamble();
    BOOST_REQUIRE_EQUAL(p.size(), ota_burst_format::PREAMBLE_LEN);
    for (unsigned k = 16; k < 64; ++k) {
        BOOST_CHECK_SMALL(std::abs(p[k] - p[k - 16]), 1e-5f);
    }
    for (const auto& x : p) {
        BOOST_CHECK_CLOSE(std::abs(x), 1.0f, 1e-3);
    }
    // RRC x RRC sampled at the symbol rate: 1 at lag 0, ~0 elsewhere.
    const auto taps = f.tx_taps();
    for (int lag = 0; lag <= 3; ++lag) {
        double acc = 0;
        for (size_t i = 0; i + 2 * lag < taps.size(); ++i) {
            acc += double(taps[i]) * taps[i + 2 * lag];
        }
        BOOST_CHECK_SMALL(acc - (lag == 0 ? 1.0 : 0.0), 0.02);
    }
}

} // namespace tokcom
} // namespace gr
