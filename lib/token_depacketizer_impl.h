/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_TOKEN_DEPACKETIZER_IMPL_H
#define INCLUDED_TOKCOM_TOKEN_DEPACKETIZER_IMPL_H

#include "drop_log.h"
#include <gnuradio/tokcom/token_depacketizer.h>
#include <gnuradio/tokcom/token_layout.h>
#include <condition_variable>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

namespace gr {
namespace tokcom {

class token_depacketizer_impl : public token_depacketizer
{
private:
    using clock = std::chrono::steady_clock;
    enum slot_state : uint8_t { MISSING = 0, BAD = 1, OK = 2 };

    // The frame being collected; at most one is open at a time.
    struct open_frame {
        bool active = false;
        uint64_t id = 0;
        pmt::pmt_t meta;
        std::vector<uint16_t> tokens;
        std::vector<uint8_t> mask;
        std::vector<uint8_t> state;
        uint32_t n_ok = 0;
        uint32_t n_bad = 0;
        uint32_t n_dup = 0;
        clock::time_point last_packet;
        // Soft information of failed packets (docs/formats.md); empty until the
        // first packet with payload_llrs arrives.
        std::vector<float> llrs;     // n_tokens * token_bits
        std::vector<float> crc_llrs; // n_packets * crc_width
        std::vector<uint8_t> soft;   // n_packets: 1 = failed, its LLRs are in
        uint32_t crc_width = 0;
    };

    const uint32_t d_grid_h;
    const uint32_t d_grid_w;
    const token_layout d_layout;
    const std::chrono::duration<double, std::milli> d_timeout;

    std::mutex d_mutex; // guards d_frame and d_recent
    open_frame d_frame;
    std::deque<uint64_t> d_recent; // ids of recently emitted frames, to spot late packets

    std::thread d_timer;
    std::condition_variable d_timer_cv;
    bool d_stopping = false;

    std::atomic<uint64_t> d_packets_in{ 0 };
    std::atomic<uint64_t> d_malformed{ 0 };
    drop_log d_drop_log;
    std::atomic<uint64_t> d_late{ 0 };
    std::atomic<uint64_t> d_duplicate{ 0 };
    std::atomic<uint64_t> d_frames_out{ 0 };

    void handle_packet(const pmt::pmt_t& msg, bool forced_bad);
    static bool soft_fields_valid(const pmt::pmt_t& meta, uint32_t payload_bits);
    void store_soft_locked(uint32_t pkt, const pmt::pmt_t& meta);
    void clear_soft_locked(uint32_t pkt);
    bool geometry_matches(const pmt::pmt_t& meta) const;
    void drop(const char* why);
    void open(uint64_t id, const pmt::pmt_t& meta);
    void emit_locked(const char* reason);
    void timer_loop();

public:
    token_depacketizer_impl(uint32_t grid_h,
                            uint32_t grid_w,
                            uint32_t codebook_size,
                            uint32_t tokens_per_packet,
                            const std::string& interleaver,
                            uint64_t seed,
                            double timeout_ms);
    ~token_depacketizer_impl() override;

    bool start() override;
    bool stop() override;

    uint64_t packets_in() const override { return d_packets_in; }
    uint64_t packets_malformed() const override { return d_malformed; }
    uint64_t packets_late() const override { return d_late; }
    uint64_t packets_duplicate() const override { return d_duplicate; }
    uint64_t frames_out() const override { return d_frames_out; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_TOKEN_DEPACKETIZER_IMPL_H */
