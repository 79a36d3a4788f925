/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_PACKET_DEFRAMER_IMPL_H
#define INCLUDED_TOKCOM_PACKET_DEFRAMER_IMPL_H

#include "bit_crc.h"
#include "drop_log.h"
#include "scrambler.h"
#include "soft_bit_decoder.h"
#include <gnuradio/tokcom/packet_deframer.h>
#include <atomic>
#include <memory>

namespace gr {
namespace tokcom {

class packet_deframer_impl : public packet_deframer
{
private:
    const uint32_t d_payload_bits;
    const uint32_t d_block_bits;
    bit_crc d_crc;
    // Scrambling sequences of payload + CRC bits (size 0: no scrambling).
    const packet_scrambler d_scramble;
    std::vector<uint8_t> d_descrambled;

    bool d_in_frame = false;
    pmt::pmt_t d_meta;
    uint32_t d_n_packets = 0;
    uint32_t d_next_idx = 0;
    std::vector<uint8_t> d_payload;

    // Soft output of failed packets (null: no soft input).
    std::unique_ptr<soft_bit_decoder> d_soft;
    std::vector<float> d_info_llrs;
    void add_soft_fields(const float* coded_llrs, pmt::pmt_t& meta);

    std::atomic<uint64_t> d_packets_out{ 0 };
    std::atomic<uint64_t> d_failed{ 0 };
    std::atomic<uint64_t> d_frames_in{ 0 };
    drop_log d_drop_log;

public:
    packet_deframer_impl(uint32_t payload_bits,
                         uint32_t crc_width,
                         uint64_t crc_poly,
                         uint32_t block_bits,
                         bool scramble,
                         const std::vector<int>& soft_polys,
                         bool log_map);

    void forecast(int noutput_items, gr_vector_int& ninput_items_required) override;
    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;

    uint64_t packets_out() const override { return d_packets_out; }
    uint64_t packets_failed() const override { return d_failed; }
    uint64_t frames_in() const override { return d_frames_in; }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_PACKET_DEFRAMER_IMPL_H */
