/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_PACKET_BITS_SOURCE_IMPL_H
#define INCLUDED_TOKCOM_PACKET_BITS_SOURCE_IMPL_H

#include "bit_crc.h"
#include "drop_log.h"
#include "scrambler.h"
#include <gnuradio/tokcom/packet_bits_source.h>
#include <atomic>

namespace gr {
namespace tokcom {

class packet_bits_source_impl : public packet_bits_source
{
private:
    const uint32_t d_payload_bits;
    const uint32_t d_tail_bits;
    const uint32_t d_block_bits; // payload + CRC + tail
    bit_crc d_crc;
    // Scrambling sequences of payload + CRC bits (size 0: no scrambling).
    const packet_scrambler d_scramble;

    // Frame being collected.
    bool d_open = false;
    uint64_t d_frame_id = 0;
    uint32_t d_n_packets = 0;
    uint32_t d_n_filled = 0;
    pmt::pmt_t d_meta;
    std::vector<uint8_t> d_bits; // n_packets * block_bits
    std::vector<uint8_t> d_filled;

    // Bits of finished frames not yet written to the output.
    std::vector<uint8_t> d_out;
    size_t d_out_pos = 0;

    std::atomic<uint64_t> d_packets_in{ 0 };
    std::atomic<uint64_t> d_malformed{ 0 };
    drop_log d_drop_log;
    std::atomic<uint64_t> d_packets_filled{ 0 };
    std::atomic<uint64_t> d_frames_out{ 0 };

    void take(const pmt::pmt_t& msg);
    void finish_frame();
    void drop(const char* why);

public:
    packet_bits_source_impl(uint32_t payload_bits,
                            uint32_t crc_width,
                            uint64_t crc_poly,
                            uint32_t tail_bits,
                            bool scramble);

    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;

    uint64_t packets_in() const override { return d_packets_in; }
    uint64_t packets_malformed() const override { return d_malformed; }
    uint64_t packets_filled() const override { return d_packets_filled; }
    uint64_t frames_out() const override { return d_frames_out; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_PACKET_BITS_SOURCE_IMPL_H */
