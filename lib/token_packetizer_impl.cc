/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "pmt_util.h"
#include "token_packetizer_impl.h"
#include <gnuradio/io_signature.h>

namespace gr {
namespace tokcom {

token_packetizer::sptr token_packetizer::make(uint32_t tokens_per_packet,
                                              const std::string& interleaver,
                                              uint64_t seed)
{
    return gnuradio::make_block_sptr<token_packetizer_impl>(
        tokens_per_packet, interleaver, seed);
}

token_packetizer_impl::token_packetizer_impl(uint32_t tokens_per_packet,
                                             const std::string& interleaver,
                                             uint64_t seed)
    : gr::block("token_packetizer",
                gr::io_signature::make(0, 0, 0),
                gr::io_signature::make(0, 0, 0)),
      d_k(tokens_per_packet),
      d_mode(token_layout::mode_from_string(interleaver)),
      d_seed(seed)
{
    if (tokens_per_packet == 0) {
        throw std::invalid_argument("token_packetizer: tokens_per_packet must be >= 1");
    }
    message_port_register_in(keys::port_in);
    message_port_register_out(keys::port_out);
    set_msg_handler(keys::port_in, [this](const pmt::pmt_t& msg) { handle_frame(msg); });
}

void token_packetizer_impl::drop(const char* why)
{
    ++d_frames_dropped;
    d_drop_log(d_logger, "malformed frame", why);
}

void token_packetizer_impl::handle_frame(const pmt::pmt_t& msg)
{
    ++d_frames_in;
    pmt::pmt_t meta, vec;
    if (!split_pdu(msg, meta, vec)) {
        return drop("not a PDU (meta dict, uniform vector)");
    }
    if (!pmt::is_u16vector(vec)) {
        return drop("tokens are not a u16vector");
    }
    uint64_t frame_id, h, w, q;
    if (!dict_get_uint(meta, keys::frame_id, frame_id) ||
        !dict_get_uint(meta, keys::grid_h, h) || !dict_get_uint(meta, keys::grid_w, w) ||
        !dict_get_uint(meta, keys::codebook_size, q)) {
        return drop(
            "frame_id, grid_h, grid_w or codebook_size missing or not an integer");
    }
    if (q < 2 || q > 65536) {
        return drop("codebook_size outside [2, 65536]");
    }
    if (h == 0 || w == 0 || h * w > UINT32_MAX || pmt::length(vec) != h * w) {
        return drop("token count is not grid_h * grid_w");
    }
    size_t n = 0;
    const uint16_t* tokens = pmt::u16vector_elements(vec, n);
    for (size_t i = 0; i < n; ++i) {
        if (tokens[i] >= q) {
            return drop("token value >= codebook_size");
        }
    }

    const auto n_tokens = static_cast<uint32_t>(n);
    if (!d_layout || d_layout->n_tokens() != n_tokens || d_layout->codebook_size() != q) {
        d_layout = std::make_unique<token_layout>(
            n_tokens, d_k, static_cast<uint32_t>(q), d_mode, d_seed);
    }
    const token_layout& lay = *d_layout;

    // Packet keys that are the same for every packet of this frame.
    pmt::pmt_t base = meta;
    base = pmt::dict_add(base, keys::n_packets, pmt::from_uint64(lay.n_packets()));
    base = pmt::dict_add(base, keys::tokens_per_packet, pmt::from_uint64(d_k));
    base = pmt::dict_add(base, keys::token_bits, pmt::from_uint64(lay.token_bits()));
    base = pmt::dict_add(base, keys::payload_bits, pmt::from_uint64(lay.payload_bits()));
    base = pmt::dict_add(
        base, keys::interleaver, pmt::mp(token_layout::mode_to_string(d_mode)));
    base = pmt::dict_add(base, keys::interleaver_seed, pmt::from_uint64(d_seed));

    std::vector<uint8_t> payload(lay.payload_bytes());
    for (uint32_t p = 0; p < lay.n_packets(); ++p) {
        lay.pack(tokens, p, payload.data());
        const pmt::pmt_t pkt_meta =
            pmt::dict_add(base, keys::pkt_idx, pmt::from_uint64(p));
        message_port_pub(
            keys::port_out,
            pmt::cons(pkt_meta, pmt::init_u8vector(payload.size(), payload)));
        ++d_packets_out;
    }
}

} /* namespace tokcom */
} /* namespace gr */
