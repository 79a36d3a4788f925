/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_BURST_MAPPER_H
#define INCLUDED_TOKCOM_BURST_MAPPER_H

#include <gnuradio/block.h>
#include <gnuradio/digital/constellation.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>

namespace gr {
namespace tokcom {

/*!
 * \brief Coded bits of packets -> constellation symbols, one burst per frame.
 * \ingroup tokcom
 *
 * Input: bytes, one coded bit each, coded_bits per packet, packets of a frame
 * back to back. Message port "frames": the frame meta (with n_packets) for
 * each frame, in order, before its bits (packet_bits_source publishes it).
 * Output: complex symbols. Each packet becomes ceil(coded_bits / b) symbols
 * (b = bits per symbol; the last symbol's missing bits are zeros); a frame's
 * burst is its packets' symbols followed by guard_symbols zeros. The first
 * symbol of a burst carries the tag "tokcom_frame" whose value is the frame
 * meta. Bits map to points by label: b bits, first bit most significant,
 * index the constellation's points() (so a constellation made with points in
 * label order, e.g. tokcom.constellations, defines the labeling).
 */
class TOKCOM_API burst_mapper : virtual public gr::block
{
public:
    typedef std::shared_ptr<burst_mapper> sptr;

    static sptr make(digital::constellation_sptr constellation,
                     uint32_t coded_bits,
                     uint32_t guard_symbols = 8);

    virtual uint64_t frames_out() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_BURST_MAPPER_H */
