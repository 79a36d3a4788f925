/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_OTA_BURST_SYNC_H
#define INCLUDED_TOKCOM_OTA_BURST_SYNC_H

#include <gnuradio/block.h>
#include <gnuradio/tokcom/api.h>
#include <gnuradio/tokcom/ota_burst_format.h>
#include <cstdint>
#include <string>

namespace gr {
namespace tokcom {

/*!
 * \brief Untagged complex samples -> equalised payload symbols of each burst found.
 * \ingroup tokcom
 *
 * The over-the-air burst receiver (docs/ota.md), one burst at a time, all per-burst
 * state reset per burst:
 *  1. detection: Schmidl-Cox metric |P|^2 / (E1 E2) of the preamble's 4 repetitions
 *     (amplitude-invariant) above \p detect_threshold;
 *  2. coarse carrier offset from the angle of P;
 *  3. cross-correlation with the known preamble waveform: the normalised peak must
 *     exceed \p xcorr_threshold (second check against false alarms); its position,
 *     refined by a parabola, is the fractional timing;
 *  4. matched filter (RRC at any fractional delay), least-squares channel estimate
 *     (9 symbol-spaced taps) from the preamble, fine carrier offset, N0;
 *  5. MMSE linear equaliser (21 taps) computed from the channel estimate;
 *  6. header decode (Viterbi + CRC-16): a bad header is counted (header_failures) and
 *     the burst dropped; a good header whose link identifiers differ from this block's
 *     is counted (header_mismatches) and dropped;
 *  7. pilot-aided tracking of residual frequency and phase over the burst;
 *  8. N0 of the equalised symbols from the pilots.
 * Output: the payload's n_packets * symbols_per_packet symbols (pilots removed), unit
 * energy; the first carries the "tokcom_frame" tag with the meta from the header
 * (frame_id, n_packets, label, model_hash, tokens_per_packet, token_bits,
 * payload_bits), noise_var (the N0 for the soft demapper) and the burst's estimates
 * (ota_cfo in cycles/sample, ota_time: sample index of the burst start, ota_gain).
 */
class TOKCOM_API ota_burst_sync : virtual public gr::block
{
public:
    typedef std::shared_ptr<ota_burst_sync> sptr;

    static sptr make(const ota_burst_format& format,
                     const std::string& modulation,
                     const std::string& code,
                     const std::string& crc,
                     uint32_t tokens_per_packet,
                     uint32_t token_bits,
                     float detect_threshold = 0.3f,
                     float xcorr_threshold = 0.2f);

    //! Preambles that passed both checks.
    virtual uint64_t bursts_detected() const = 0;
    virtual uint64_t header_failures() const = 0;
    virtual uint64_t header_mismatches() const = 0;
    virtual uint64_t frames_out() const = 0;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_OTA_BURST_SYNC_H */
