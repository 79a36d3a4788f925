/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_CONSTELLATION_UTIL_H
#define INCLUDED_TOKCOM_CONSTELLATION_UTIL_H

#include <gnuradio/digital/constellation.h>
#include <stdexcept>
#include <string>

namespace gr {
namespace tokcom {

//! Bits per symbol of a one-dimensional constellation of 2^b points (else throws).
inline unsigned labelled_bits_per_symbol(const digital::constellation_sptr& c,
                                         const std::string& block)
{
    if (!c || c->dimensionality() != 1 || c->points().size() < 2 ||
        (c->points().size() & (c->points().size() - 1)) != 0) {
        throw std::invalid_argument(
            block + ": need a one-dimensional constellation of 2^b points");
    }
    return c->bits_per_symbol();
}

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_CONSTELLATION_UTIL_H */
