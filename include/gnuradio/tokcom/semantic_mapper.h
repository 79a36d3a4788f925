/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_SEMANTIC_MAPPER_H
#define INCLUDED_TOKCOM_SEMANTIC_MAPPER_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief Replaces every token of a frame PDU by its label π[token] before the
 * token packetizer (docs/mapper.md).
 * \ingroup tokcom
 *
 * Input "in": a frame PDU (meta dict with codebook_size, u16vector tokens).
 * Output "out": the same PDU with tokens replaced by labels; the meta is passed
 * on unchanged. Positions marked 1 in an optional "mask" meta entry are left as
 * they are. Frames whose codebook_size differs from the labeling's, or with a
 * value >= Q, or that are not frame PDUs, are counted, logged at debug level
 * and dropped.
 */
class TOKCOM_API semantic_mapper : virtual public gr::block
{
public:
    typedef std::shared_ptr<semantic_mapper> sptr;

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

#endif /* INCLUDED_TOKCOM_SEMANTIC_MAPPER_H */
