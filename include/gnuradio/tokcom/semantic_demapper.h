/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_SEMANTIC_DEMAPPER_H
#define INCLUDED_TOKCOM_SEMANTIC_DEMAPPER_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief Turns the received labels of a frame PDU back into tokens,
 * token = π⁻¹[label], after the token depacketizer (docs/mapper.md).
 * \ingroup tokcom
 *
 * Input "in": a received frame PDU (meta with codebook_size and the
 * depacketizer's "mask", u16vector labels). Output "out": the same PDU with
 * every unmasked position mapped through π⁻¹; masked (lost) positions keep
 * their value (0). Frames whose codebook_size differs from the labeling's, or
 * with a value >= Q at an unmasked position, or that are not frame PDUs, are
 * counted, logged at debug level and dropped.
 */
class TOKCOM_API semantic_demapper : virtual public gr::block
{
public:
    typedef std::shared_ptr<semantic_demapper> sptr;

    /*!
     * \param labels π: labels[t] is the label of token t, a permutation of
     *        0 ... Q-1 (python: tokcom.labeling.read_labels(file)).
     */
    static sptr make(const std::vector<uint16_t>& labels);

    virtual uint64_t frames_in() const = 0;
    virtual uint64_t frames_dropped() const = 0;
    virtual uint32_t codebook_size() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_SEMANTIC_DEMAPPER_H */
