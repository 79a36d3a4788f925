/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_TOKEN_LABELING_H
#define INCLUDED_TOKCOM_TOKEN_LABELING_H

#include <gnuradio/tokcom/api.h>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief A token labeling π: token t is sent as label π[t] (docs/mapper.md).
 * \ingroup tokcom
 *
 * π is a permutation of 0 ... Q-1 (Q = codebook size, 2 ... 65536), so labels
 * are valid tokens of the same width and the packet format does not change.
 * The semantic mapper applies π at the transmitter, the semantic demapper
 * π⁻¹ at the receiver.
 */
class TOKCOM_API token_labeling
{
public:
    //! Throws std::invalid_argument unless \p labels is a permutation of 0 ... Q-1.
    explicit token_labeling(const std::vector<uint16_t>& labels);

    uint32_t codebook_size() const { return static_cast<uint32_t>(d_label.size()); }
    uint16_t label(uint16_t token) const { return d_label.at(token); }
    uint16_t token(uint16_t label) const { return d_token.at(label); }
    const std::vector<uint16_t>& labels() const { return d_label; }
    const std::vector<uint16_t>& tokens() const { return d_token; }

    /*!
     * \brief Maps \p n values in place, token -> label (\p inverse false) or
     * label -> token (true), skipping positions where \p mask is 1 (\p mask may
     * be null). Returns false, changing nothing, if a mapped value is >= Q.
     */
    bool apply(uint16_t* values, size_t n, const uint8_t* mask, bool inverse) const;

private:
    std::vector<uint16_t> d_label; // token -> label
    std::vector<uint16_t> d_token; // label -> token
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_TOKEN_LABELING_H */
