/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "semantic_mapper_impl.h"
#include <gnuradio/io_signature.h>

namespace gr {
namespace tokcom {

semantic_mapper::sptr semantic_mapper::make(const std::vector<uint16_t>& labels)
{
    return gnuradio::make_block_sptr<semantic_mapper_impl>(labels);
}

semantic_mapper_impl::semantic_mapper_impl(const std::vector<uint16_t>& labels)
    : gr::block("semantic_mapper",
                gr::io_signature::make(0, 0, 0),
                gr::io_signature::make(0, 0, 0)),
      d_relabeler(labels, false)
{
    message_port_register_in(keys::port_in);
    message_port_register_out(keys::port_out);
    set_msg_handler(keys::port_in, [this](const pmt::pmt_t& msg) { handle_frame(msg); });
}

void semantic_mapper_impl::handle_frame(const pmt::pmt_t& msg)
{
    std::string why;
    const pmt::pmt_t out = d_relabeler.relabel(msg, why);
    if (!why.empty()) {
        d_logger->debug("dropped malformed frame: {}", why);
        return;
    }
    message_port_pub(keys::port_out, out);
}

} /* namespace tokcom */
} /* namespace gr */
