/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <gnuradio/tokcom/token_layout.h>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace gr {
namespace tokcom {

namespace {
// SplitMix64 (Steele, Lea, Flood 2014): tiny, fully specified, and easy to
// reimplement bit-exactly in any language, which is what a shared interleaver needs.
uint64_t splitmix64_next(uint64_t& state)
{
    state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
} // namespace

uint32_t token_layout::bits_for_codebook(uint32_t q)
{
    if (q < 2 || q > 65536) {
        throw std::invalid_argument("codebook_size must be in [2, 65536], got " +
                                    std::to_string(q));
    }
    uint32_t bits = 0;
    while ((1u << bits) < q) {
        ++bits;
    }
    return bits;
}

std::vector<uint32_t> token_layout::permutation(uint32_t n, uint64_t seed)
{
    std::vector<uint32_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0u);
    uint64_t state = seed;
    // Fisher-Yates from the end; j = next mod (i + 1). The modulo bias is
    // below 2^-40 for any frame size and keeps the definition one line long.
    for (uint32_t i = n; i-- > 1;) {
        const uint32_t j = static_cast<uint32_t>(splitmix64_next(state) % (i + 1ULL));
        std::swap(perm[i], perm[j]);
    }
    return perm;
}

interleaver_mode token_layout::mode_from_string(const std::string& name)
{
    if (name == "random") {
        return interleaver_mode::RANDOM;
    }
    if (name == "stride") {
        return interleaver_mode::STRIDE;
    }
    throw std::invalid_argument("interleaver must be 'random' or 'stride', got '" + name +
                                "'");
}

std::string token_layout::mode_to_string(interleaver_mode mode)
{
    return mode == interleaver_mode::RANDOM ? "random" : "stride";
}

token_layout::token_layout(uint32_t n_tokens,
                           uint32_t tokens_per_packet,
                           uint32_t codebook_size,
                           interleaver_mode mode,
                           uint64_t seed)
    : d_n_tokens(n_tokens),
      d_k(tokens_per_packet),
      d_q(codebook_size),
      d_bits(bits_for_codebook(codebook_size)),
      d_n_packets(0),
      d_mode(mode),
      d_seed(seed)
{
    if (n_tokens == 0) {
        throw std::invalid_argument("a frame needs at least one token");
    }
    if (tokens_per_packet == 0) {
        throw std::invalid_argument("tokens_per_packet must be at least 1");
    }
    d_n_packets = (n_tokens + d_k - 1) / d_k;
    d_slots.assign(static_cast<size_t>(d_n_packets) * d_k, -1);
    if (mode == interleaver_mode::RANDOM) {
        const auto perm = permutation(n_tokens, seed);
        for (uint32_t i = 0; i < n_tokens; ++i) {
            d_slots[i] = static_cast<int32_t>(perm[i]);
        }
    } else {
        for (uint32_t p = 0; p < d_n_packets; ++p) {
            for (uint32_t s = 0; s < d_k; ++s) {
                const uint64_t pos = static_cast<uint64_t>(s) * d_n_packets + p;
                if (pos < n_tokens) {
                    d_slots[static_cast<size_t>(p) * d_k + s] = static_cast<int32_t>(pos);
                }
            }
        }
    }
}

int32_t token_layout::slot_position(uint32_t pkt, uint32_t slot) const
{
    if (pkt >= d_n_packets || slot >= d_k) {
        throw std::out_of_range("packet or slot index out of range");
    }
    return d_slots[static_cast<size_t>(pkt) * d_k + slot];
}

void token_layout::pack(const uint16_t* frame, uint32_t pkt, uint8_t* out) const
{
    const int32_t* slots = &d_slots[static_cast<size_t>(pkt) * d_k];
    std::fill(out, out + payload_bytes(), 0);
    uint32_t bit = 0;
    for (uint32_t s = 0; s < d_k; ++s) {
        const uint32_t value = slots[s] < 0 ? 0u : frame[slots[s]];
        for (uint32_t b = d_bits; b-- > 0; ++bit) {
            if ((value >> b) & 1u) {
                out[bit >> 3] |= static_cast<uint8_t>(0x80u >> (bit & 7));
            }
        }
    }
}

bool token_layout::unpack(const uint8_t* payload,
                          uint32_t pkt,
                          uint16_t* frame,
                          uint8_t* mask) const
{
    const int32_t* slots = &d_slots[static_cast<size_t>(pkt) * d_k];
    std::vector<uint32_t> values(d_k, 0);
    uint32_t bit = 0;
    for (uint32_t s = 0; s < d_k; ++s) {
        uint32_t value = 0;
        for (uint32_t b = 0; b < d_bits; ++b, ++bit) {
            value = (value << 1) | ((payload[bit >> 3] >> (7 - (bit & 7))) & 1u);
        }
        if (slots[s] >= 0 && value >= d_q) {
            return false;
        }
        values[s] = value;
    }
    for (uint32_t s = 0; s < d_k; ++s) {
        if (slots[s] >= 0) {
            frame[slots[s]] = static_cast<uint16_t>(values[s]);
            mask[slots[s]] = 0;
        }
    }
    return true;
}

} // namespace tokcom
} // namespace gr
