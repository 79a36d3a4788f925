/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_SEMANTIC_MAPPER_IMPL_H
#define INCLUDED_TOKCOM_SEMANTIC_MAPPER_IMPL_H

#include "frame_relabeler.h"
#include <gnuradio/tokcom/semantic_mapper.h>

namespace gr {
namespace tokcom {

class semantic_mapper_impl : public semantic_mapper
{
private:
    frame_relabeler d_relabeler;

    void handle_frame(const pmt::pmt_t& msg);

public:
    explicit semantic_mapper_impl(const std::vector<uint16_t>& labels);

    uint64_t frames_in() const override { return d_relabeler.frames_in(); }
    uint64_t frames_dropped() const override { return d_relabeler.frames_dropped(); }
    uint32_t codebook_size() const override
    {
        return d_relabeler.labeling().codebook_size();
    }
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_SEMANTIC_MAPPER_IMPL_H */
