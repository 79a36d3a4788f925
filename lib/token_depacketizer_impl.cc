/* -*- c++ -*- */
/*
 * Copyright 2026 gr-tokcom authors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "frame_keys.h"
#include "pmt_util.h"
#include "token_depacketizer_impl.h"
#include <gnuradio/io_signature.h>
#include <algorithm>

namespace gr {
namespace tokcom {

namespace {
// How many emitted frame ids are remembered to recognise late packets.
constexpr size_t RECENT_FRAMES = 64;
} // namespace

token_depacketizer::sptr token_depacketizer::make(uint32_t grid_h,
                                                  uint32_t grid_w,
                                                  uint32_t codebook_size,
                                                  uint32_t tokens_per_packet,
                                                  const std::string& interleaver,
                                                  uint64_t seed,
                                                  double timeout_ms)
{
    return gnuradio::make_block_sptr<token_depacketizer_impl>(
        grid_h, grid_w, codebook_size, tokens_per_packet, interleaver, seed, timeout_ms);
}

static uint32_t checked_grid(uint32_t h, uint32_t w)
{
    if (h == 0 || w == 0 || static_cast<uint64_t>(h) * w > UINT32_MAX) {
        throw std::invalid_argument("token_depacketizer: grid must be non-empty");
    }
    return h * w;
}

token_depacketizer_impl::token_depacketizer_impl(uint32_t grid_h,
                                                 uint32_t grid_w,
                                                 uint32_t codebook_size,
                                                 uint32_t tokens_per_packet,
                                                 const std::string& interleaver,
                                                 uint64_t seed,
                                                 double timeout_ms)
    : gr::block("token_depacketizer",
                gr::io_signature::make(0, 0, 0),
                gr::io_signature::make(0, 0, 0)),
      d_grid_h(grid_h),
      d_grid_w(grid_w),
      d_layout(checked_grid(grid_h, grid_w),
               tokens_per_packet,
               codebook_size,
               token_layout::mode_from_string(interleaver),
               seed),
      d_timeout(timeout_ms)
{
    if (timeout_ms < 0) {
        throw std::invalid_argument("token_depacketizer: timeout_ms must be >= 0");
    }
    message_port_register_in(keys::port_in);
    message_port_register_in(keys::port_fail);
    message_port_register_in(keys::port_flush);
    message_port_register_out(keys::port_out);
    set_msg_handler(keys::port_in,
                    [this](const pmt::pmt_t& msg) { handle_packet(msg, false); });
    set_msg_handler(keys::port_fail,
                    [this](const pmt::pmt_t& msg) { handle_packet(msg, true); });
    set_msg_handler(keys::port_flush, [this](const pmt::pmt_t&) {
        std::lock_guard<std::mutex> lock(d_mutex);
        emit_locked("flush");
    });
}

token_depacketizer_impl::~token_depacketizer_impl()
{
    if (d_timer.joinable()) {
        {
            std::lock_guard<std::mutex> lock(d_mutex);
            d_stopping = true;
        }
        d_timer_cv.notify_all();
        d_timer.join();
    }
}

bool token_depacketizer_impl::start()
{
    if (d_timeout.count() > 0 && !d_timer.joinable()) {
        d_stopping = false;
        d_timer = std::thread([this] { timer_loop(); });
    }
    return block::start();
}

bool token_depacketizer_impl::stop()
{
    {
        std::lock_guard<std::mutex> lock(d_mutex);
        d_stopping = true;
        // Every frame that came in goes out, also when the flowgraph stops.
        emit_locked("stop");
    }
    d_timer_cv.notify_all();
    if (d_timer.joinable()) {
        d_timer.join();
    }
    return block::stop();
}

void token_depacketizer_impl::timer_loop()
{
    const auto period = std::chrono::duration<double, std::milli>(
        std::clamp(d_timeout.count() / 4.0, 1.0, 50.0));
    std::unique_lock<std::mutex> lock(d_mutex);
    while (!d_stopping) {
        d_timer_cv.wait_for(lock, period);
        if (d_frame.active && clock::now() - d_frame.last_packet >= d_timeout) {
            emit_locked("timeout");
        }
    }
}

void token_depacketizer_impl::drop(const char* why)
{
    ++d_malformed;
    d_drop_log(d_logger, "malformed packet", why);
}

bool token_depacketizer_impl::geometry_matches(const pmt::pmt_t& meta) const
{
    // Keys a packet may carry about its frame's geometry; any that is present
    // must agree with this block's configuration, or the payload would be
    // placed wrongly.
    const std::pair<pmt::pmt_t, uint64_t> expected[] = {
        { keys::grid_h, d_grid_h },
        { keys::grid_w, d_grid_w },
        { keys::codebook_size, d_layout.codebook_size() },
        { keys::tokens_per_packet, d_layout.tokens_per_packet() },
        { keys::n_packets, d_layout.n_packets() },
        { keys::interleaver_seed, d_layout.seed() },
    };
    for (const auto& [key, want] : expected) {
        if (!pmt::dict_has_key(meta, key)) {
            continue;
        }
        uint64_t got;
        if (!dict_get_uint(meta, key, got) || got != want) {
            return false;
        }
    }
    const pmt::pmt_t il = pmt::dict_ref(meta, keys::interleaver, pmt::PMT_NIL);
    return pmt::is_null(il) ||
           (pmt::is_symbol(il) &&
            pmt::symbol_to_string(il) == token_layout::mode_to_string(d_layout.mode()));
}

void token_depacketizer_impl::open(uint64_t id, const pmt::pmt_t& meta)
{
    const uint32_t n = d_layout.n_tokens();
    d_frame.active = true;
    d_frame.id = id;
    d_frame.meta = pmt::dict_delete(pmt::dict_delete(meta, keys::pkt_idx), keys::crc_ok);
    d_frame.tokens.assign(n, 0);
    d_frame.mask.assign(n, 1);
    d_frame.state.assign(d_layout.n_packets(), MISSING);
    d_frame.n_ok = d_frame.n_bad = d_frame.n_dup = 0;
    d_frame.llrs.clear();
    d_frame.crc_llrs.clear();
    d_frame.soft.clear();
    d_frame.crc_width = 0;
    d_frame.meta = pmt::dict_delete(pmt::dict_delete(d_frame.meta, keys::payload_llrs),
                                    keys::crc_llrs);
}

bool token_depacketizer_impl::soft_fields_valid(const pmt::pmt_t& meta,
                                                uint32_t payload_bits)
{
    const pmt::pmt_t pl = pmt::dict_ref(meta, keys::payload_llrs, pmt::PMT_NIL);
    const pmt::pmt_t cl = pmt::dict_ref(meta, keys::crc_llrs, pmt::PMT_NIL);
    if (pmt::is_null(pl) && pmt::is_null(cl)) {
        return true;
    }
    return pmt::is_f32vector(pl) && pmt::length(pl) == payload_bits &&
           pmt::is_f32vector(cl) && pmt::length(cl) <= 64;
}

void token_depacketizer_impl::store_soft_locked(uint32_t pkt, const pmt::pmt_t& meta)
{
    const pmt::pmt_t pl = pmt::dict_ref(meta, keys::payload_llrs, pmt::PMT_NIL);
    if (pmt::is_null(pl)) {
        return;
    }
    const pmt::pmt_t cl = pmt::dict_ref(meta, keys::crc_llrs, pmt::PMT_NIL);
    open_frame& f = d_frame;
    const uint32_t width = static_cast<uint32_t>(pmt::length(cl));
    if (f.soft.empty()) {
        f.llrs.assign(static_cast<size_t>(d_layout.n_tokens()) * d_layout.token_bits(),
                      0.0f);
        f.crc_width = width;
        f.crc_llrs.assign(static_cast<size_t>(d_layout.n_packets()) * width, 0.0f);
        f.soft.assign(d_layout.n_packets(), 0);
    } else if (width != f.crc_width) {
        d_logger->warn("packet {}: crc_llrs of {} bits in a frame of {}-bit CRCs; "
                       "its soft information is ignored",
                       pkt,
                       width,
                       f.crc_width);
        return;
    }
    size_t len = 0;
    const float* l = pmt::f32vector_elements(pl, len);
    const uint32_t bits = d_layout.token_bits();
    for (uint32_t s = 0; s < d_layout.tokens_per_packet(); ++s) {
        const int32_t pos = d_layout.slot_position(pkt, s);
        if (pos >= 0) {
            std::copy(l + s * bits,
                      l + (s + 1) * bits,
                      f.llrs.begin() + static_cast<size_t>(pos) * bits);
        }
    }
    const float* c = pmt::f32vector_elements(cl, len);
    std::copy(c, c + width, f.crc_llrs.begin() + static_cast<size_t>(pkt) * width);
    f.soft[pkt] = 1;
}

void token_depacketizer_impl::clear_soft_locked(uint32_t pkt)
{
    open_frame& f = d_frame;
    if (f.soft.empty() || !f.soft[pkt]) {
        return;
    }
    const uint32_t bits = d_layout.token_bits();
    for (uint32_t s = 0; s < d_layout.tokens_per_packet(); ++s) {
        const int32_t pos = d_layout.slot_position(pkt, s);
        if (pos >= 0) {
            std::fill_n(f.llrs.begin() + static_cast<size_t>(pos) * bits, bits, 0.0f);
        }
    }
    std::fill_n(
        f.crc_llrs.begin() + static_cast<size_t>(pkt) * f.crc_width, f.crc_width, 0.0f);
    f.soft[pkt] = 0;
}

void token_depacketizer_impl::handle_packet(const pmt::pmt_t& msg, bool forced_bad)
{
    ++d_packets_in;
    pmt::pmt_t meta, vec;
    if (!split_pdu(msg, meta, vec) || !pmt::is_u8vector(vec)) {
        return drop("not a PDU with a u8vector payload");
    }
    uint64_t id, pkt;
    if (!dict_get_uint(meta, keys::frame_id, id) ||
        !dict_get_uint(meta, keys::pkt_idx, pkt)) {
        return drop("frame_id or pkt_idx missing or not an integer");
    }
    if (pkt >= d_layout.n_packets()) {
        return drop("pkt_idx beyond the frame's packet count");
    }
    if (!geometry_matches(meta)) {
        return drop("frame geometry differs from this block's configuration");
    }
    const pmt::pmt_t crc = pmt::dict_ref(meta, keys::crc_ok, pmt::PMT_T);
    if (!pmt::is_bool(crc)) {
        return drop("crc_ok is not a boolean");
    }
    bool bad = forced_bad || !pmt::to_bool(crc);
    if (!bad && pmt::length(vec) != d_layout.payload_bytes()) {
        return drop("payload length differs from the layout's payload_bytes");
    }
    if (bad && !soft_fields_valid(meta, d_layout.payload_bits())) {
        return drop("payload_llrs / crc_llrs not f32vectors of payload_bits / <= 64");
    }

    std::lock_guard<std::mutex> lock(d_mutex);
    const bool current = d_frame.active && d_frame.id == id;
    if (!current && std::find(d_recent.begin(), d_recent.end(), id) != d_recent.end()) {
        ++d_late;
        d_logger->debug("late packet {} of already emitted frame {}", pkt, id);
        return;
    }
    if (d_frame.active && !current) {
        emit_locked("newer_frame");
    }
    if (!d_frame.active) {
        open(id, meta);
    }
    d_frame.last_packet = clock::now();

    uint8_t& state = d_frame.state[pkt];
    if (state == OK || (state == BAD && bad)) {
        ++d_frame.n_dup;
        ++d_duplicate;
        return;
    }
    if (!bad) {
        size_t len = 0;
        const uint8_t* payload = pmt::u8vector_elements(vec, len);
        if (!d_layout.unpack(payload,
                             static_cast<uint32_t>(pkt),
                             d_frame.tokens.data(),
                             d_frame.mask.data())) {
            // Passed its CRC yet carries impossible tokens: an undetected error.
            d_logger->debug("packet {} of frame {} has tokens >= codebook_size", pkt, id);
            bad = true;
        }
    }
    if (state == BAD) { // a good copy replaces a bad one
        ++d_frame.n_dup;
        ++d_duplicate;
        if (bad) {
            return;
        }
        --d_frame.n_bad;
        clear_soft_locked(static_cast<uint32_t>(pkt));
    }
    state = bad ? BAD : OK;
    if (bad) {
        store_soft_locked(static_cast<uint32_t>(pkt), meta);
    }
    ++(bad ? d_frame.n_bad : d_frame.n_ok);
    if (d_frame.n_ok + d_frame.n_bad == d_layout.n_packets()) {
        emit_locked("complete");
    }
}

void token_depacketizer_impl::emit_locked(const char* reason)
{
    if (!d_frame.active) {
        return;
    }
    open_frame& f = d_frame;
    const uint64_t masked = std::count(f.mask.begin(), f.mask.end(), uint8_t{ 1 });
    pmt::pmt_t meta = f.meta;
    meta = pmt::dict_add(meta, keys::frame_id, pmt::from_uint64(f.id));
    meta = pmt::dict_add(meta, keys::grid_h, pmt::from_uint64(d_grid_h));
    meta = pmt::dict_add(meta, keys::grid_w, pmt::from_uint64(d_grid_w));
    meta = pmt::dict_add(
        meta, keys::codebook_size, pmt::from_uint64(d_layout.codebook_size()));
    meta = pmt::dict_add(meta, keys::mask, pmt::init_u8vector(f.mask.size(), f.mask));
    meta = pmt::dict_add(meta, keys::n_packets, pmt::from_uint64(d_layout.n_packets()));
    meta = pmt::dict_add(meta, keys::n_packets_ok, pmt::from_uint64(f.n_ok));
    meta = pmt::dict_add(meta, keys::n_packets_bad, pmt::from_uint64(f.n_bad));
    meta = pmt::dict_add(meta,
                         keys::n_packets_missing,
                         pmt::from_uint64(d_layout.n_packets() - f.n_ok - f.n_bad));
    meta = pmt::dict_add(meta, keys::n_duplicates, pmt::from_uint64(f.n_dup));
    meta = pmt::dict_add(meta, keys::n_tokens_masked, pmt::from_uint64(masked));
    meta = pmt::dict_add(meta, keys::reason, pmt::mp(reason));
    if (!f.soft.empty()) {
        meta =
            pmt::dict_add(meta, keys::llrs, pmt::init_f32vector(f.llrs.size(), f.llrs));
        meta = pmt::dict_add(
            meta, keys::crc_llrs, pmt::init_f32vector(f.crc_llrs.size(), f.crc_llrs));
        meta = pmt::dict_add(
            meta, keys::soft_packets, pmt::init_u8vector(f.soft.size(), f.soft));
    }
    message_port_pub(keys::port_out,
                     pmt::cons(meta, pmt::init_u16vector(f.tokens.size(), f.tokens)));
    ++d_frames_out;
    d_recent.push_back(f.id);
    if (d_recent.size() > RECENT_FRAMES) {
        d_recent.pop_front();
    }
    f.active = false;
}

} /* namespace tokcom */
} /* namespace gr */
