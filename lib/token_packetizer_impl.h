/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_TOKEN_PACKETIZER_IMPL_H
#define INCLUDED_TOKCOM_TOKEN_PACKETIZER_IMPL_H

#include "drop_log.h"
#include <gnuradio/tokcom/token_layout.h>
#include <gnuradio/tokcom/token_packetizer.h>
#include <atomic>
#include <memory>

namespace gr {
namespace tokcom {

class token_packetizer_impl : public token_packetizer
{
private:
    const uint32_t d_k;
    const interleaver_mode d_mode;
    const uint64_t d_seed;
    // Rebuilt only when a frame's geometry differs from the previous one.
    std::unique_ptr<token_layout> d_layout;
    std::atomic<uint64_t> d_frames_in{ 0 };
    std::atomic<uint64_t> d_frames_dropped{ 0 };
    drop_log d_drop_log;
    std::atomic<uint64_t> d_packets_out{ 0 };

    void handle_frame(const pmt::pmt_t& msg);
    void drop(const char* why);

public:
    token_packetizer_impl(uint32_t tokens_per_packet,
                          const std::string& interleaver,
                          uint64_t seed);

    uint64_t frames_in() const override { return d_frames_in; }
    uint64_t frames_dropped() const override { return d_frames_dropped; }
    uint64_t packets_out() const override { return d_packets_out; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_TOKEN_PACKETIZER_IMPL_H */
