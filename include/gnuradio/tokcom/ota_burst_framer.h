/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_OTA_BURST_FRAMER_H
#define INCLUDED_TOKCOM_OTA_BURST_FRAMER_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <gnuradio/tokcom/ota_burst_format.h>
#include <cstdint>
#include <string>

namespace gr {
namespace tokcom {

/*!
 * \brief Payload symbol bursts -> over-the-air bursts of samples (docs/ota.md).
 * \ingroup tokcom
 *
 * Input: the coded link's payload symbols (burst_mapper with guard_symbols = 0); the
 * first symbol of a frame carries the "tokcom_frame" tag whose value, the frame meta,
 * gives frame_id, n_packets and, if present, label and model_id. Output: for each frame
 * one burst of format.burst_samples(n_packets) samples: preamble, header (built from
 * the meta and the link identifiers given here), payload with pilots, RRC-shaped at
 * format.sps() with ramps; "tx_sob" on its first sample and "tx_eob" on its last (for a
 * UHD sink), then gap_samples zeros (for a continuous sink, e.g. a channel simulator or
 * a file). The frame tag is not passed on: only samples leave the transmitter.
 * A frame whose meta lacks frame_id or n_packets, or has n_packets out of range, is
 * counted (frames_dropped) and its symbols skipped.
 */
class TOKCOM_API ota_burst_framer : virtual public gr::block
{
public:
    typedef std::shared_ptr<ota_burst_framer> sptr;

    static sptr make(const ota_burst_format& format,
                     const std::string& modulation,
                     const std::string& code,
                     const std::string& crc,
                     uint32_t tokens_per_packet,
                     uint32_t token_bits,
                     uint32_t gap_samples = 0);

    virtual uint64_t bursts_out() const = 0;
    virtual uint64_t frames_dropped() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_OTA_BURST_FRAMER_H */
