/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// PMT metadata keys of frame and token-packet PDUs. docs/formats.md is the
// spec; python/tokcom/frame_pdu.py holds the same names for Python blocks.

#ifndef INCLUDED_TOKCOM_FRAME_KEYS_H
#define INCLUDED_TOKCOM_FRAME_KEYS_H

#include <pmt/pmt.h>

namespace gr {
namespace tokcom {
namespace keys {

// Frame keys (frame PDUs, copied onto every packet of the frame).
inline const pmt::pmt_t frame_id = pmt::mp("frame_id");
inline const pmt::pmt_t grid_h = pmt::mp("grid_h");
inline const pmt::pmt_t grid_w = pmt::mp("grid_w");
inline const pmt::pmt_t codebook_size = pmt::mp("codebook_size");
inline const pmt::pmt_t label = pmt::mp("label");
inline const pmt::pmt_t model_id = pmt::mp("model_id");

// Packet keys.
inline const pmt::pmt_t pkt_idx = pmt::mp("pkt_idx");
inline const pmt::pmt_t n_packets = pmt::mp("n_packets");
inline const pmt::pmt_t tokens_per_packet = pmt::mp("tokens_per_packet");
inline const pmt::pmt_t token_bits = pmt::mp("token_bits");
inline const pmt::pmt_t payload_bits = pmt::mp("payload_bits");
inline const pmt::pmt_t interleaver = pmt::mp("interleaver");
inline const pmt::pmt_t interleaver_seed = pmt::mp("interleaver_seed");
inline const pmt::pmt_t crc_ok = pmt::mp("crc_ok");
inline const pmt::pmt_t payload_llrs = pmt::mp("payload_llrs");
inline const pmt::pmt_t crc_llrs = pmt::mp("crc_llrs");

// Received-frame keys (depacketizer output).
inline const pmt::pmt_t mask = pmt::mp("mask");
inline const pmt::pmt_t n_packets_ok = pmt::mp("n_packets_ok");
inline const pmt::pmt_t n_packets_bad = pmt::mp("n_packets_bad");
inline const pmt::pmt_t n_packets_missing = pmt::mp("n_packets_missing");
inline const pmt::pmt_t n_duplicates = pmt::mp("n_duplicates");
inline const pmt::pmt_t n_tokens_masked = pmt::mp("n_tokens_masked");
inline const pmt::pmt_t reason = pmt::mp("reason");
inline const pmt::pmt_t llrs = pmt::mp("llrs");
inline const pmt::pmt_t soft_packets = pmt::mp("soft_packets");

// Message port names.
inline const pmt::pmt_t port_in = pmt::mp("in");
inline const pmt::pmt_t port_out = pmt::mp("out");
inline const pmt::pmt_t port_fail = pmt::mp("fail");
inline const pmt::pmt_t port_flush = pmt::mp("flush");
inline const pmt::pmt_t port_frames = pmt::mp("frames");

// Stream tag at the first symbol of a frame burst; its value is the frame meta.
inline const pmt::pmt_t frame_tag = pmt::mp("tokcom_frame");

} // namespace keys
} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_FRAME_KEYS_H */
