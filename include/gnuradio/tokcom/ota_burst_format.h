/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_TOKCOM_OTA_BURST_FORMAT_H
#define INCLUDED_TOKCOM_OTA_BURST_FORMAT_H

#include <gnuradio/gr_complex.h>
#include <gnuradio/tokcom/api.h>
#include <cstdint>
#include <string>
#include <vector>

namespace gr {
namespace tokcom {

/*!
 * \brief The fields of an over-the-air burst header (docs/ota.md).
 *
 * Link identifiers are indices into ota_burst_format::modulations(), codes() and crcs().
 */
struct TOKCOM_API ota_header {
    uint32_t frame_id = 0;          //!< 16 bits (frame_id mod 2^16)
    uint32_t n_packets = 0;         //!< 12 bits, 1 ... 4095
    int32_t label = -1;             //!< 12 bits as label + 1; -1 = none, up to 4094
    uint32_t modulation = 0;        //!< 2 bits
    uint32_t code = 0;              //!< 2 bits
    uint32_t crc = 0;               //!< 3 bits
    uint32_t tokens_per_packet = 0; //!< 8 bits, 1 ... 255
    uint32_t token_bits = 0;        //!< 5 bits, 1 ... 31
    uint32_t model_hash = 0;        //!< 16 bits (ota_burst_format::model_hash)

    bool operator==(const ota_header& o) const
    {
        return frame_id == o.frame_id && n_packets == o.n_packets && label == o.label &&
               modulation == o.modulation && code == o.code && crc == o.crc &&
               tokens_per_packet == o.tokens_per_packet && token_bits == o.token_bits &&
               model_hash == o.model_hash;
    }
};

/*!
 * \brief The over-the-air burst format: preamble, header, pilots, pulse shape, layout.
 * \ingroup tokcom
 *
 * docs/ota.md is the specification; this class is its one implementation, used by the
 * burst framer (TX) and the burst synchroniser (RX).
 *
 * A burst is, in symbols: preamble (4 x a 16-symbol Zadoff-Chu sequence, then a
 * 64-symbol Zadoff-Chu sequence), then the body (header: 100 QPSK symbols; then the
 * payload: n_packets x symbols_per_packet symbols from the coded link), with a group of
 * 4 BPSK pilots after every 64 body symbols and after the last one. The symbols are
 * shaped by a root-raised-cosine filter (sps samples per symbol, span 8 symbols) and the
 * outer filter tails are windowed with a raised-cosine ramp.
 */
class TOKCOM_API ota_burst_format
{
public:
    static constexpr unsigned SHORT_LEN = 16;    //!< symbols of the repeated sequence
    static constexpr unsigned SHORT_REPEATS = 4; //!< its repetitions
    static constexpr unsigned LONG_LEN = 64;     //!< symbols of the long sequence
    static constexpr unsigned PREAMBLE_LEN = SHORT_LEN * SHORT_REPEATS + LONG_LEN;
    static constexpr unsigned HEADER_FIELD_BITS = 78;
    static constexpr unsigned HEADER_CRC_BITS = 16;
    static constexpr unsigned HEADER_SYMBOLS = 100; //!< (78 + 16 + 6 tail) x 2 / 2
    static constexpr unsigned PILOT_SPACING = 64;   //!< body symbols between pilot groups
    static constexpr unsigned PILOT_GROUP = 4;      //!< pilots per group
    static constexpr unsigned FILTER_SPAN = 8;      //!< RRC span in symbols
    static constexpr unsigned MAX_PACKETS = 4095;

    /*!
     * \param sps samples per symbol (>= 2)
     * \param rolloff RRC roll-off factor (0 < rolloff <= 1)
     * \param symbols_per_packet payload symbols of one coded packet
     */
    ota_burst_format(unsigned sps = 2,
                     double rolloff = 0.35,
                     unsigned symbols_per_packet = 31);

    unsigned sps() const { return d_sps; }
    double rolloff() const { return d_rolloff; }
    unsigned symbols_per_packet() const { return d_symbols_per_packet; }
    //! Samples from a burst's start to its first symbol's peak (half the filter).
    unsigned filter_delay() const { return FILTER_SPAN * d_sps / 2; }
    //! Samples of raised-cosine ramp at each end of a burst.
    unsigned ramp_samples() const { return filter_delay() - d_sps; }

    //! The preamble's symbols (unit modulus).
    const std::vector<gr_complex>& preamble() const { return d_preamble; }
    //! The preamble as sent: its burst's first samples (ramp included, header not).
    const std::vector<gr_complex>& preamble_waveform() const { return d_preamble_wave; }
    //! Pilot symbol number j of a burst (BPSK, +-1).
    static gr_complex pilot(unsigned j);

    //! Body symbols (header + payload) of a burst of n_packets.
    uint32_t body_symbols(uint32_t n_packets) const;
    uint32_t pilot_groups(uint32_t n_packets) const;
    //! All symbols of a burst: preamble + body + pilots.
    uint32_t burst_symbols(uint32_t n_packets) const;
    //! Samples of a burst (its filter tails included).
    uint32_t burst_samples(uint32_t n_packets) const;
    //! Channel uses of a burst: burst_samples / sps. TCE's N counts these.
    double channel_uses(uint32_t n_packets) const;
    //! Position in the burst of body symbol b.
    uint32_t body_position(uint32_t b) const;
    //! Position in the burst of the first pilot of group g (n_packets: of the burst).
    uint32_t pilot_position(uint32_t g, uint32_t n_packets) const;

    //! The header's 94 bits: fields MSB first, then CRC-16.
    static std::vector<uint8_t> header_bits(const ota_header& h);
    //! The header's 100 QPSK symbols (K = 7 rate-1/2 code, terminated).
    static std::vector<gr_complex> header_symbols(const ota_header& h);
    /*!
     * Decodes 100 received header symbols (phase-corrected, any positive scale): soft
     * Viterbi, then the CRC. False (and \p out untouched) if the CRC fails or a field is
     * out of range.
     */
    static bool decode_header(const gr_complex* symbols, ota_header& out);

    /*!
     * A whole burst's symbols: preamble, header and payload with the pilots inserted.
     * \p payload must hold n_packets * symbols_per_packet symbols.
     */
    std::vector<gr_complex> burst(const ota_header& h,
                                  const std::vector<gr_complex>& payload) const;
    //! RRC-shaped samples of a symbol sequence, ramps applied (burst_samples long).
    std::vector<gr_complex> modulate(const std::vector<gr_complex>& symbols) const;

    //! RRC taps at sps, unit energy (sum of squares 1): the TX filter.
    std::vector<float> tx_taps() const;
    //! The same pulse at OVERSAMPLE x sps (for fractional-delay matched filters).
    const std::vector<float>& prototype() const { return d_prototype; }
    static constexpr unsigned OVERSAMPLE = 32;

    static const std::vector<std::string>& modulations();
    static const std::vector<std::string>& codes();
    static const std::vector<std::string>& crcs();
    //! Index of \p name in \p names (throws std::invalid_argument if absent).
    static uint32_t id_of(const std::vector<std::string>& names, const std::string& name);
    /*!
     * A header with the link identifiers of these names set (n_packets 1, frame fields
     * 0); throws std::invalid_argument for an unknown name or a field out of range.
     */
    static ota_header link_header(const std::string& modulation,
                                  const std::string& code,
                                  const std::string& crc,
                                  uint32_t tokens_per_packet,
                                  uint32_t token_bits);
    //! 16-bit hash of a model id: FNV-1a 32 folded (hi xor lo); "" -> 0.
    static uint32_t model_hash(const std::string& model_id);

private:
    unsigned d_sps;
    double d_rolloff;
    unsigned d_symbols_per_packet;
    std::vector<float> d_prototype;
    std::vector<gr_complex> d_preamble;
    std::vector<gr_complex> d_preamble_wave;
};

} // namespace tokcom
} // namespace gr

#endif /* INCLUDED_TOKCOM_OTA_BURST_FORMAT_H */
