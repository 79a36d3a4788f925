/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_BURST_DEMAPPER_H
#define INCLUDED_TOKCOM_BURST_DEMAPPER_H

#include <gnuradio/block.h>
#include <gnuradio/digital/constellation.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>

namespace gr {
namespace tokcom {

/*!
 * \brief Received frame bursts -> max-log soft bits of each packet's coded bits.
 * \ingroup tokcom
 *
 * The inverse of burst_mapper. Input: complex samples at one per symbol,
 * where the first symbol of each burst carries the "tokcom_frame" tag (its
 * value, the frame meta, tells n_packets). Samples outside bursts are
 * discarded. For every packet it writes exactly coded_bits soft values: the
 * exact max-log LLR of each bit, (min |y-p|^2 over points with bit 0 - min
 * over points with bit 1) / N0, so positive means 1. Before a frame's soft
 * bits it publishes the frame meta on message port "frames".
 *
 * Output format: float LLRs clipped to +-1000 (quantize = false), or bytes for 8-bit soft
 * decoders such as gr-fec's cc_decoder (quantize = true):
 * clamp(round(128 + quant_scale * LLR), 0, 255); DEFAULT_QUANT_SCALE (16) is
 * the scale measured best for gr-fec's cc_decoder (docs/link.md). With
 * quantize = true an optional second output carries the same LLRs as floats
 * clipped to +-1000, for the soft-output decoder of CRC-failed packets
 * (packet_deframer's soft input).
 *
 * N0: noise_var if > 0; otherwise the frame meta's "noise_var" (double) if present (the
 * over-the-air burst receiver measures it per burst); otherwise estimated from the guard
 * symbols (sent as zeros, so they hold noise only), averaged over frames, and before the
 * first guard from each packet's distance to its nearest points.
 */
class TOKCOM_API burst_demapper : virtual public gr::block
{
public:
    typedef std::shared_ptr<burst_demapper> sptr;

    static constexpr float DEFAULT_QUANT_SCALE = 16.0f;

    static sptr make(digital::constellation_sptr constellation,
                     uint32_t coded_bits,
                     uint32_t guard_symbols = 8,
                     float noise_var = 0.0f,
                     bool quantize = false,
                     float quant_scale = DEFAULT_QUANT_SCALE);

    virtual void set_noise_var(float noise_var) = 0;
    //! The N0 in use (configured or estimated).
    virtual float noise_var() const = 0;
    virtual uint64_t frames_in() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_BURST_DEMAPPER_H */
