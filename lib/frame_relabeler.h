/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// The message handling shared by the semantic mapper (π) and demapper (π⁻¹):
// one frame PDU in, the relabelled frame PDU out, malformed input counted.

#ifndef INCLUDED_TOKCOM_FRAME_RELABELER_H
#define INCLUDED_TOKCOM_FRAME_RELABELER_H

#include <gnuradio/tokcom/api.h>
#include <gnuradio/tokcom/token_labeling.h>
#include <pmt/pmt.h>
#include <atomic>
#include <string>

namespace gr {
namespace tokcom {

// Exported for lib/qa_token_labeling.cc only.
class TOKCOM_API frame_relabeler
{
public:
    frame_relabeler(const std::vector<uint16_t>& labels, bool inverse)
        : d_labeling(labels), d_inverse(inverse)
    {
    }

    /*!
     * The relabelled PDU of \p msg, or PMT_NIL (frame counted as dropped,
     * \p why set) if \p msg is not a frame PDU this labeling can map.
     */
    pmt::pmt_t relabel(const pmt::pmt_t& msg, std::string& why);

    const token_labeling& labeling() const { return d_labeling; }
    uint64_t frames_in() const { return d_frames_in; }
    uint64_t frames_dropped() const { return d_frames_dropped; }

private:
    const token_labeling d_labeling;
    const bool d_inverse;
    std::atomic<uint64_t> d_frames_in{ 0 };
    std::atomic<uint64_t> d_frames_dropped{ 0 };
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_FRAME_RELABELER_H */
