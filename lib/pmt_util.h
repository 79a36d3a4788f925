/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

// Small, total PMT accessors: they report a wrong or missing value instead of
// throwing, so blocks can count a malformed message and go on.

#ifndef INCLUDED_TOKCOM_PMT_UTIL_H
#define INCLUDED_TOKCOM_PMT_UTIL_H

#include <pmt/pmt.h>
#include <cstdint>

namespace gr {
namespace tokcom {

//! Reads a non-negative integer (PMT long or uint64) from dict \p meta.
inline bool dict_get_uint(const pmt::pmt_t& meta, const pmt::pmt_t& key, uint64_t& out)
{
    const pmt::pmt_t v = pmt::dict_ref(meta, key, pmt::PMT_NIL);
    if (pmt::is_uint64(v)) {
        out = pmt::to_uint64(v);
        return true;
    }
    if (pmt::is_integer(v) && pmt::to_long(v) >= 0) {
        out = static_cast<uint64_t>(pmt::to_long(v));
        return true;
    }
    return false;
}

//! Splits a PDU into meta dict and vector; false if it is not a PDU.
inline bool split_pdu(const pmt::pmt_t& msg, pmt::pmt_t& meta, pmt::pmt_t& vec)
{
    if (!pmt::is_pair(msg)) {
        return false;
    }
    meta = pmt::car(msg);
    vec = pmt::cdr(msg);
    if (pmt::is_null(meta)) {
        meta = pmt::make_dict();
    }
    return pmt::is_dict(meta) && pmt::is_uniform_vector(vec);
}

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_PMT_UTIL_H */
