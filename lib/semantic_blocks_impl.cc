/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "semantic_blocks_impl.h"

namespace gr {
namespace tokcom {

semantic_mapper::sptr semantic_mapper::make(const std::vector<uint16_t>& labels)
{
    return gnuradio::make_block_sptr<semantic_mapper_impl>("semantic_mapper", labels);
}

semantic_demapper::sptr semantic_demapper::make(const std::vector<uint16_t>& labels)
{
    return gnuradio::make_block_sptr<semantic_demapper_impl>("semantic_demapper", labels);
}

} /* namespace tokcom */
} /* namespace gr */
