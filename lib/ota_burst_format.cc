/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "bit_crc.h"
#include "scrambler.h"
#include <gnuradio/filter/firdes.h>
#include <gnuradio/tokcom/ota_burst_format.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gr {
namespace tokcom {

namespace {

// Header code: K = 7, rate 1/2, generators 133 and 171 (octal), the most significant
// generator bit tapping the current input bit (IEEE 802.11-2016 17.3.5.6), terminated
// with 6 zero bits.
constexpr unsigned HK = 7;
constexpr unsigned HSTATES = 1u << (HK - 1);
constexpr unsigned G0 = 0133;
constexpr unsigned G1 = 0171;
constexpr unsigned HEADER_INFO_BITS =
    ota_burst_format::HEADER_FIELD_BITS + ota_burst_format::HEADER_CRC_BITS;
constexpr unsigned HEADER_STEPS = HEADER_INFO_BITS + HK - 1;
static_assert(HEADER_STEPS == ota_burst_format::HEADER_SYMBOLS,
              "QPSK: 2 bits per symbol");

// Field widths in header order (docs/ota.md); the first 2 bits are the version, 0.
constexpr std::array<unsigned, 10> WIDTHS = { 2, 16, 12, 12, 2, 2, 3, 8, 5, 16 };

inline unsigned parity(unsigned x) { return __builtin_parity(x); }

// Branch outputs of the header code: reg = (input << 6) | state, state = the last six
// inputs, newest in bit 5. Tabulated once: the decoder looks them up 12800 times a
// header.
inline unsigned branch_out(unsigned state, unsigned bit)
{
    static const auto table = [] {
        std::array<uint8_t, 2 * HSTATES> t{};
        for (unsigned reg = 0; reg < 2 * HSTATES; ++reg) {
            t[reg] = static_cast<uint8_t>((parity(reg & G0) << 1) | parity(reg & G1));
        }
        return t;
    }();
    return table[(bit << (HK - 1)) | state];
}

bit_crc& header_crc()
{
    thread_local bit_crc crc(16, 0x1021); // gCRC16, TS 38.212 5.1, parity inverted
    return crc;
}

const float QPSK_SCALE = 1.0f / std::sqrt(2.0f);

std::vector<gr_complex> zadoff_chu(unsigned n, unsigned root)
{
    // Even length: x_k = exp(-j pi u k^2 / N) (constant modulus, ideal periodic
    // autocorrelation when gcd(u, N) = 1).
    std::vector<gr_complex> x(n);
    for (unsigned k = 0; k < n; ++k) {
        const double phase = -M_PI * root * double(k) * k / n;
        x[k] = gr_complex(std::cos(phase), std::sin(phase));
    }
    return x;
}

} // namespace

ota_burst_format::ota_burst_format(unsigned sps,
                                   double rolloff,
                                   unsigned symbols_per_packet)
    : d_sps(sps), d_rolloff(rolloff), d_symbols_per_packet(symbols_per_packet)
{
    if (sps < 2 || sps > 64) {
        throw std::invalid_argument("ota_burst_format: sps must be 2 ... 64");
    }
    if (!(rolloff > 0 && rolloff <= 1)) {
        throw std::invalid_argument("ota_burst_format: rolloff must be in (0, 1]");
    }
    if (symbols_per_packet == 0) {
        throw std::invalid_argument("ota_burst_format: symbols_per_packet must be >= 1");
    }
    const unsigned ntaps = FILTER_SPAN * sps * OVERSAMPLE + 1;
    const auto taps =
        filter::firdes::root_raised_cosine(1.0, sps * OVERSAMPLE, 1.0, rolloff, ntaps);
    d_prototype.assign(taps.begin(), taps.end());
    double energy = 0;
    for (size_t i = 0; i < d_prototype.size(); i += OVERSAMPLE) {
        energy += double(d_prototype[i]) * d_prototype[i];
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(energy));
    for (auto& t : d_prototype) {
        t *= scale;
    }

    const auto short_seq = zadoff_chu(SHORT_LEN, 1);
    for (unsigned r = 0; r < SHORT_REPEATS; ++r) {
        d_preamble.insert(d_preamble.end(), short_seq.begin(), short_seq.end());
    }
    const auto long_seq = zadoff_chu(LONG_LEN, 5);
    d_preamble.insert(d_preamble.end(), long_seq.begin(), long_seq.end());
    d_preamble_wave = modulate(d_preamble);
    d_preamble_wave.resize(PREAMBLE_LEN * sps);
}

gr_complex ota_burst_format::pilot(unsigned j)
{
    static const std::vector<uint8_t> seq = scrambler_sequence(127);
    return gr_complex(seq[j % 127] ? -1.0f : 1.0f, 0.0f);
}

uint32_t ota_burst_format::body_symbols(uint32_t n_packets) const
{
    return HEADER_SYMBOLS + n_packets * d_symbols_per_packet;
}

uint32_t ota_burst_format::pilot_groups(uint32_t n_packets) const
{
    return (body_symbols(n_packets) + PILOT_SPACING - 1) / PILOT_SPACING;
}

uint32_t ota_burst_format::burst_symbols(uint32_t n_packets) const
{
    return PREAMBLE_LEN + body_symbols(n_packets) + PILOT_GROUP * pilot_groups(n_packets);
}

uint32_t ota_burst_format::burst_samples(uint32_t n_packets) const
{
    return (burst_symbols(n_packets) - 1) * d_sps + 2 * filter_delay() + 1;
}

double ota_burst_format::channel_uses(uint32_t n_packets) const
{
    return double(burst_samples(n_packets)) / d_sps;
}

uint32_t ota_burst_format::body_position(uint32_t b) const
{
    return PREAMBLE_LEN + b + (b / PILOT_SPACING) * PILOT_GROUP;
}

uint32_t ota_burst_format::pilot_position(uint32_t g, uint32_t n_packets) const
{
    const uint32_t after = std::min((g + 1) * PILOT_SPACING, body_symbols(n_packets));
    return PREAMBLE_LEN + after + g * PILOT_GROUP;
}

std::vector<uint8_t> ota_burst_format::header_bits(const ota_header& h)
{
    if (h.n_packets < 1 || h.n_packets > MAX_PACKETS || h.label < -1 || h.label > 4094 ||
        h.modulation > 3 || h.code > 3 || h.crc > 7 || h.tokens_per_packet < 1 ||
        h.tokens_per_packet > 255 || h.token_bits < 1 || h.token_bits > 31 ||
        h.model_hash > 0xFFFF) {
        throw std::invalid_argument("ota_header: a field is out of range (docs/ota.md)");
    }
    const std::array<uint32_t, 10> values = { 0,
                                              h.frame_id & 0xFFFFu,
                                              h.n_packets,
                                              static_cast<uint32_t>(h.label + 1),
                                              h.modulation,
                                              h.code,
                                              h.crc,
                                              h.tokens_per_packet,
                                              h.token_bits,
                                              h.model_hash };
    std::vector<uint8_t> bits;
    bits.reserve(HEADER_INFO_BITS);
    for (size_t f = 0; f < WIDTHS.size(); ++f) {
        for (unsigned i = 0; i < WIDTHS[f]; ++i) {
            bits.push_back((values[f] >> (WIDTHS[f] - 1 - i)) & 1);
        }
    }
    bits.resize(HEADER_INFO_BITS);
    auto& crc = header_crc();
    crc.write_bits(crc.compute(bits.data(), HEADER_FIELD_BITS),
                   bits.data() + HEADER_FIELD_BITS);
    return bits;
}

std::vector<gr_complex> ota_burst_format::header_symbols(const ota_header& h)
{
    auto bits = header_bits(h);
    bits.resize(HEADER_STEPS, 0); // tail
    std::vector<gr_complex> out(HEADER_SYMBOLS);
    unsigned state = 0;
    for (unsigned i = 0; i < HEADER_STEPS; ++i) {
        const unsigned o = branch_out(state, bits[i]);
        // TS 38.211 5.1.3 QPSK: bit 0 -> +, first bit on I.
        out[i] = gr_complex((o & 2) ? -QPSK_SCALE : QPSK_SCALE,
                            (o & 1) ? -QPSK_SCALE : QPSK_SCALE);
        state = ((bits[i] << (HK - 1)) | state) >> 1;
    }
    return out;
}

bool ota_burst_format::decode_header(const gr_complex* y, ota_header& out)
{
    // Soft Viterbi with the correlation metric: sum over coded bits of (1 - 2c) * soft.
    // Each new state ns = (b << (HK - 2)) | (st >> 1) has the two predecessors
    // st = (ns << 1) | o, o = 0, 1, so every step is a branch-free loop over ns.
    // Unreachable states start far below any reachable metric (finite: no inf - inf).
    constexpr float FAR = -1e30f;
    std::array<float, HSTATES> metric, next;
    metric.fill(FAR);
    metric[0] = 0;
    std::vector<std::array<uint8_t, HSTATES>> from(HEADER_STEPS); // (bit << 1) | o
    for (unsigned i = 0; i < HEADER_STEPS; ++i) {
        const float s0 = y[i].real(), s1 = y[i].imag();
        const float bm[4] = { s0 + s1, s0 - s1, -s0 + s1, -s0 - s1 }; // by output bits
        // The tail's input bits are 0: states with the new bit 1 are not reachable.
        const unsigned reachable = i < HEADER_INFO_BITS ? HSTATES : HSTATES / 2;
        for (unsigned ns = 0; ns < HSTATES; ++ns) {
            const unsigned b = ns >> (HK - 2);
            const unsigned st0 = (ns << 1) & (HSTATES - 1);
            const float m0 = metric[st0] + bm[branch_out(st0, b)];
            const float m1 = metric[st0 | 1] + bm[branch_out(st0 | 1, b)];
            const bool one = m1 > m0;
            next[ns] = ns < reachable ? (one ? m1 : m0) : FAR;
            from[i][ns] = static_cast<uint8_t>((b << 1) | (one ? 1 : 0));
        }
        metric = next;
    }
    std::vector<uint8_t> bits(HEADER_STEPS);
    unsigned st = 0;
    for (unsigned i = HEADER_STEPS; i-- > 0;) {
        const unsigned b = from[i][st] >> 1;
        const unsigned oldest = from[i][st] & 1;
        bits[i] = static_cast<uint8_t>(b);
        st = ((st << 1) & (HSTATES - 1)) | oldest;
    }
    auto& crc = header_crc();
    if (crc.compute(bits.data(), HEADER_FIELD_BITS) !=
        crc.read_bits(bits.data() + HEADER_FIELD_BITS)) {
        return false;
    }
    std::array<uint32_t, 10> v{};
    unsigned pos = 0;
    for (size_t f = 0; f < WIDTHS.size(); ++f) {
        for (unsigned i = 0; i < WIDTHS[f]; ++i) {
            v[f] = (v[f] << 1) | bits[pos++];
        }
    }
    if (v[0] != 0 || v[2] < 1 || v[3] > 4095 || v[7] < 1 || v[8] < 1) {
        return false; // unknown version or impossible field
    }
    ota_header h;
    h.frame_id = v[1];
    h.n_packets = v[2];
    h.label = static_cast<int32_t>(v[3]) - 1;
    h.modulation = v[4];
    h.code = v[5];
    h.crc = v[6];
    h.tokens_per_packet = v[7];
    h.token_bits = v[8];
    h.model_hash = v[9];
    out = h;
    return true;
}

std::vector<gr_complex>
ota_burst_format::burst(const ota_header& h, const std::vector<gr_complex>& payload) const
{
    if (payload.size() != size_t(h.n_packets) * d_symbols_per_packet) {
        throw std::invalid_argument("ota_burst_format::burst: payload length does not "
                                    "match n_packets * symbols_per_packet");
    }
    const auto header = header_symbols(h);
    const uint32_t body = body_symbols(h.n_packets);
    std::vector<gr_complex> out(d_preamble);
    out.reserve(burst_symbols(h.n_packets));
    unsigned pilot_index = 0;
    for (uint32_t b = 0; b < body; ++b) {
        out.push_back(b < HEADER_SYMBOLS ? header[b] : payload[b - HEADER_SYMBOLS]);
        if ((b + 1) % PILOT_SPACING == 0 || b + 1 == body) {
            for (unsigned p = 0; p < PILOT_GROUP; ++p) {
                out.push_back(pilot(pilot_index++));
            }
        }
    }
    return out;
}

std::vector<float> ota_burst_format::tx_taps() const
{
    std::vector<float> taps;
    for (size_t i = 0; i < d_prototype.size(); i += OVERSAMPLE) {
        taps.push_back(d_prototype[i]);
    }
    return taps;
}

std::vector<gr_complex>
ota_burst_format::modulate(const std::vector<gr_complex>& symbols) const
{
    if (symbols.empty()) {
        return {};
    }
    const auto taps = tx_taps();
    const size_t n_out = (symbols.size() - 1) * d_sps + taps.size();
    std::vector<gr_complex> out(n_out, gr_complex(0, 0));
    for (size_t k = 0; k < symbols.size(); ++k) {
        gr_complex* o = out.data() + k * d_sps;
        for (size_t t = 0; t < taps.size(); ++t) {
            o[t] += symbols[k] * taps[t];
        }
    }
    // Raised-cosine ramps over the outer filter tails, ending one symbol before the
    // first (after the last) symbol's peak, so that no symbol's main lobe is touched.
    const unsigned r = ramp_samples();
    for (unsigned i = 0; i < r && i < n_out; ++i) {
        const float w = 0.5f * (1.0f - std::cos(float(M_PI) * (i + 1) / (r + 1)));
        out[i] *= w;
        out[n_out - 1 - i] *= w;
    }
    return out;
}

const std::vector<std::string>& ota_burst_format::modulations()
{
    static const std::vector<std::string> v = { "bpsk", "qpsk", "16qam" };
    return v;
}

const std::vector<std::string>& ota_burst_format::codes()
{
    static const std::vector<std::string> v = { "none", "cc_k7", "cc_k3" };
    return v;
}

const std::vector<std::string>& ota_burst_format::crcs()
{
    static const std::vector<std::string> v = { "none",  "crc8",   "crc11",
                                                "crc16", "crc24a", "crc32" };
    return v;
}

uint32_t ota_burst_format::id_of(const std::vector<std::string>& names,
                                 const std::string& name)
{
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
        throw std::invalid_argument("ota_burst_format: unknown identifier " + name);
    }
    return static_cast<uint32_t>(it - names.begin());
}

ota_header ota_burst_format::link_header(const std::string& modulation,
                                         const std::string& code,
                                         const std::string& crc,
                                         uint32_t tokens_per_packet,
                                         uint32_t token_bits)
{
    ota_header h;
    h.modulation = id_of(modulations(), modulation);
    h.code = id_of(codes(), code);
    h.crc = id_of(crcs(), crc);
    h.tokens_per_packet = tokens_per_packet;
    h.token_bits = token_bits;
    h.n_packets = 1;
    header_bits(h); // throws if a field is out of range
    return h;
}

uint32_t ota_burst_format::model_hash(const std::string& model_id)
{
    if (model_id.empty()) {
        return 0;
    }
    uint32_t h = 2166136261u;
    for (const unsigned char c : model_id) {
        h = (h ^ c) * 16777619u;
    }
    return (h >> 16) ^ (h & 0xFFFFu);
}

} // namespace tokcom
} // namespace gr
