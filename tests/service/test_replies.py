"""Reply book (idempotent ids), throttled logging and the precision choice, in-process."""

import logging

import pytest

from gnuradio.tokcom.service.connections import ThrottledLog
from gnuradio.tokcom.service.replies import ReplyBook, request_key


def test_request_key_covers_id_and_every_byte():
    base = request_key("a", [b"h", b"xy"])
    assert base == request_key("a", [b"h", b"xy"])
    assert base != request_key("b", [b"h", b"xy"])
    assert base != request_key("a", [b"h", b"xz"])
    assert base != request_key("a", [b"hx", b"y"])  # frame boundaries count


def test_reply_book_joins_then_caches_within_bounds():
    book = ReplyBook(max_entries=2, max_bytes=10)
    book.start(b"k1", ["env1"])
    assert book.join(b"k1", ["env2"]) and not book.join(b"k2", ["env3"])
    assert book.finish(b"k1", [b"abc"]) == [["env1"], ["env2"]]
    assert book.cached_reply(b"k1") == [b"abc"]
    book.start(b"k2", ["e"])
    assert book.finish(b"k2", None) == [["e"]]  # errors are not cached
    assert book.cached_reply(b"k2") is None
    for k in (b"k3", b"k4"):
        book.start(k, ["e"])
        book.finish(k, [b"0123"])
    assert book.cached_reply(b"k1") is None  # evicted: two entries at most
    book.start(b"big", ["e"])
    book.finish(b"big", [b"x" * 11])  # over the byte bound: not cached
    assert book.cached_reply(b"big") is None
    assert (book.joined, book.cached) == (1, 1)


def test_throttled_log_counts_what_it_held_back(caplog):
    now = [0.0]
    say = ThrottledLog(logging.getLogger("t"), interval=1.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, "t"):
        for _ in range(5):
            say("k", logging.WARNING, "event %d", 7)
        now[0] = 2.0
        say("k", logging.WARNING, "event %d", 8)
    assert [r.getMessage() for r in caplog.records] == [
        "event 7", "event 8 (4 more like it in the last 2 s)"]


def test_precision_choice(tiny_bundle, caplog):
    from gnuradio.tokcom.models import load_bundle
    from gnuradio.tokcom.models.inference import int8_usable
    from gnuradio.tokcom.service.precision import serving_transformer

    tr = load_bundle(tiny_bundle, with_classifier=False).transformer
    assert not serving_transformer(tr, "float32").int8
    with pytest.raises(ValueError):
        serving_transformer(tr, "fp16")
    if not int8_usable():
        pytest.skip("no int8 CPU engine in this torch build")
    assert serving_transformer(tr, "int8").int8
    with caplog.at_level(logging.INFO, "tokcom.service.precision"):
        chosen = serving_transformer(tr, "auto")
    line = next(r.getMessage() for r in caplog.records if "self-check" in r.getMessage())
    assert line.endswith("int8" if chosen.int8 else "float32")
