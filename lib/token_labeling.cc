/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <gnuradio/tokcom/token_labeling.h>
#include <stdexcept>
#include <string>

namespace gr {
namespace tokcom {

token_labeling::token_labeling(const std::vector<uint16_t>& labels) : d_label(labels)
{
    const size_t q = labels.size();
    if (q < 2 || q > 65536) {
        throw std::invalid_argument("a labeling needs 2 ... 65536 labels, got " +
                                    std::to_string(q));
    }

    // seen flags below decide.
    d_token.assign(q, 0);
    std::vector<bool> seen(q, false);
    for (size_t t = 0; t < q; ++t) {
        const uint16_t l = labels[t];
        if (l >= q || seen[l]) {
            throw std::invalid_argument(
                "labels are not a permutation of 0 ... Q-1: label " + std::to_string(l) +
                " of token " + std::to_string(t) +
                (l >= q ? " is out of range" : " is used twice"));
        }
        seen[l] = true;
        d_token[l] = static_cast<uint16_t>(t);
    }
}

bool token_labeling::apply(uint16_t* values,
                           size_t n,
                           const uint8_t* mask,
                           bool inverse) const
{
    const size_t q = d_label.size();
    for (size_t i = 0; i < n; ++i) {
        if ((mask == nullptr || mask[i] == 0) && values[i] >= q) {
            return false;
        }
    }
    const std::vector<uint16_t>& table = inverse ? d_token : d_label;
    for (size_t i = 0; i < n; ++i) {
        if (mask == nullptr || mask[i] == 0) {
            values[i] = table[values[i]];
        }
    }
    return true;
}

} // namespace tokcom
} // namespace gr
