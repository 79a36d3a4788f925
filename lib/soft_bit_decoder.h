/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_SOFT_BIT_DECODER_H
#define INCLUDED_TOKCOM_SOFT_BIT_DECODER_H

#include <gnuradio/tokcom/api.h>
#include <gnuradio/trellis/fsm.h>
#include <cstdint>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief Posterior LLRs of the information bits of one terminated rate-1/n
 * convolutional codeword (BCJR), for packets whose CRC failed.
 *
 * The trellis is gr-trellis' fsm(1, n, polys) with polys in the usual octal
 * convention (K = 7: {0133, 0171}, which is gr-fec's cc_encoder [109, 79] with
 * bits reversed; K = 3: {05, 07}); output symbol bit n-1-j (MSB first) is coded
 * bit j of a step, as unpack_k_bits_bb(n) and cc_encoder send them. The
 * forward-backward recursions are written here because gr-trellis does not
 * export its siso_algorithm (siso_f is a stream block that would decode every
 * packet, where only failed ones need it): log-MAP with the exact Jacobian
 * logarithm max*(a, b) = max(a, b) + log(1 + e^-|a-b|), or max-log (max only).
 *
 * LLR convention everywhere: L = log P(bit = 1) / P(bit = 0) (positive = 1), as
 * burst_demapper writes them. Input: n * steps channel LLRs of the coded bits
 * (steps = info bits + tail, the tail returning the encoder to state 0).
 * Output: info_bits posterior LLRs, given the whole codeword and uniform priors
 * on the information bits.
 */
class TOKCOM_API soft_bit_decoder
{
public:
    soft_bit_decoder(const std::vector<int>& polys,
                     uint32_t info_bits,
                     uint32_t tail_bits,
                     bool log_map = true);

    uint32_t info_bits() const { return d_info_bits; }
    uint32_t coded_bits() const { return d_steps * d_n; }

    //! coded: coded_bits() LLRs; info: info_bits() posterior LLRs written.
    void decode(const float* coded, float* info);

private:
    trellis::fsm d_fsm;
    const uint32_t d_n;
    const uint32_t d_info_bits;
    const uint32_t d_steps;
    const bool d_log_map;
    std::vector<float> d_gamma; // steps x O: log P(y | output symbol), up to a constant
    std::vector<float> d_alpha; // (steps + 1) x S forward log metrics
    std::vector<float> d_beta;  // (steps + 1) x S backward log metrics
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_SOFT_BIT_DECODER_H */
