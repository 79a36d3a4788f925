/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// One implementation for the semantic mapper (π) and demapper (π⁻¹): they differ only
// in the direction of the table look-up.

#ifndef INCLUDED_TOKCOM_SEMANTIC_BLOCKS_IMPL_H
#define INCLUDED_TOKCOM_SEMANTIC_BLOCKS_IMPL_H

#include "frame_keys.h"
#include "frame_relabeler.h"
#include <gnuradio/io_signature.h>
#include <gnuradio/tokcom/semantic_demapper.h>
#include <gnuradio/tokcom/semantic_mapper.h>

namespace gr {
namespace tokcom {

template <class Interface, bool Inverse>
class semantic_block_impl : public Interface
{
private:
    frame_relabeler d_relabeler;

    void handle_frame(const pmt::pmt_t& msg)
    {
        std::string why;
        const pmt::pmt_t out = d_relabeler.relabel(msg, why);
        if (!why.empty()) {
            this->d_logger->debug("dropped malformed frame: {}", why);
            return;
        }
        this->message_port_pub(keys::port_out, out);
    }

public:
    semantic_block_impl(const char* name, const std::vector<uint16_t>& labels)
        : gr::block(
              name, gr::io_signature::make(0, 0, 0), gr::io_signature::make(0, 0, 0)),
          d_relabeler(labels, Inverse)
    {
        this->message_port_register_in(keys::port_in);
        this->message_port_register_out(keys::port_out);
        this->set_msg_handler(keys::port_in,
                              [this](const pmt::pmt_t& msg) { handle_frame(msg); });
    }

    uint64_t frames_in() const override { return d_relabeler.frames_in(); }
    uint64_t frames_dropped() const override { return d_relabeler.frames_dropped(); }
    uint32_t codebook_size() const override
    {
        return d_relabeler.labeling().codebook_size();
    }
};

using semantic_mapper_impl = semantic_block_impl<semantic_mapper, false>;
using semantic_demapper_impl = semantic_block_impl<semantic_demapper, true>;

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_SEMANTIC_BLOCKS_IMPL_H */
