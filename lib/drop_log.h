/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_DROP_LOG_H
#define INCLUDED_TOKCOM_DROP_LOG_H

#include <gnuradio/logger.h>
#include <cstdint>

namespace gr {
namespace tokcom {

/*!
 * \brief How every block reports malformed input it drops: at WARN, one line per
 * drop naming the reason.
 *
 * After the first FIRST drops only every EVERY-th is logged (with the running count),
 * so that a stream of bad input cannot flood the log; the blocks' counters still
 * count every drop. python/tokcom/drop_log.py applies the same rule to Python blocks.
 */
class drop_log
{
public:
    static constexpr uint64_t FIRST = 100;
    static constexpr uint64_t EVERY = 1000;

    //! Counts one drop of \p what (e.g. "malformed packet"), reason \p why, and logs it.
    void operator()(const gr::logger_ptr& logger, const char* what, const char* why)
    {
        ++d_count;
        if (d_count <= FIRST) {
            logger->warn("dropped {}: {}", what, why);
        } else if (d_count % EVERY == 0) {
            logger->warn("dropped {}: {} ({} dropped so far; logging every "
                         "{}th from now on)",
                         what,
                         why,
                         d_count,
                         EVERY);
        }
    }

    uint64_t count() const { return d_count; }

private:
    uint64_t d_count = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_DROP_LOG_H */
