/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "frame_relabeler.h"
#include "pmt_util.h"
#include <vector>

namespace gr {
namespace tokcom {

pmt::pmt_t frame_relabeler::relabel(const pmt::pmt_t& msg, std::string& why)
{
    ++d_frames_in;
    why.clear();
    pmt::pmt_t meta, vec;
    uint64_t q = 0;
    if (!split_pdu(msg, meta, vec) || !pmt::is_u16vector(vec)) {
        why = "not a frame PDU (meta dict, u16vector tokens)";
    } else if (!dict_get_uint(meta, keys::codebook_size, q)) {
        why = "codebook_size missing or not an integer";
    } else if (q != d_labeling.codebook_size()) {
        why = "codebook_size " + std::to_string(q) + " but the labeling has " +
              std::to_string(d_labeling.codebook_size()) + " labels";
    }
    const size_t n = why.empty() ? pmt::length(vec) : 0;
    std::vector<uint8_t> mask;
    if (why.empty()) {
        const pmt::pmt_t m = pmt::dict_ref(meta, keys::mask, pmt::PMT_NIL);
        if (pmt::is_u8vector(m) && pmt::length(m) == n) {
            mask = pmt::u8vector_elements(m);
        } else if (!pmt::is_null(m)) {
            why = "mask is not a u8vector of one entry per token";
        }
    }
    std::vector<uint16_t> values;
    if (why.empty()) {
        values = pmt::u16vector_elements(vec);
        if (!d_labeling.apply(
                values.data(), n, mask.empty() ? nullptr : mask.data(), d_inverse)) {
            why = "a value >= codebook_size";
        }
    }
    if (!why.empty()) {
        ++d_frames_dropped;
        return pmt::PMT_NIL;
    }
    return pmt::cons(meta, pmt::init_u16vector(n, values));
}

} // namespace tokcom
} // namespace gr
