"""The front-end factory: ``--radio`` specs -> GNU Radio sources and sinks of complex64.

uhd:ARGS      a USRP through gr-uhd. ARGS must name the device so that UHD never searches
              the network: addr=IP (a unicast IPv4 address) or a USB/PCIe-only type
              (type=b200 for B200/B210/B200mini/B205mini, type=usrp1) or resource=... (X310
              over PCIe). Empty args, serial= or type=x300/usrp2/n3xx without addr, and
              broadcast or network addresses are refused here, before gr-uhd is imported:
              UHD's device discovery broadcasts UDP on every interface.
zmq:ENDPOINT  IQ over gr-zeromq PUSH (TX) / PULL (RX). gr-zeromq 3.10 binds its sinks and
              connects its sources, so the TX binds ENDPOINT and the RX connects to it;
              ZeroMQ lets either start first (the RX retries; the TX sends nothing until a
              peer is there, so no burst is lost).
file:PATH     raw complex64 (any name) or a SigMF recording (NAME.sigmf-data + .sigmf-meta,
              cf32_le): read once by the RX (replay), written by the TX.
"""

import ipaddress
import os
from dataclasses import dataclass, field

from gnuradio import blocks, gr

from .sigmf import is_sigmf, read_sigmf_meta, sigmf_paths, write_sigmf_meta

KINDS = ("uhd", "zmq", "file")
# UHD device types found without a network search (USB or local PCIe/embedded).
LOCAL_TYPES = {"b200", "usrp1", "e3xx", "e3x0", "e310", "e320"}
NETWORK_TYPES = {"usrp2", "x300", "n3xx", "mpmd", "n300", "n310", "n320", "x4xx"}


class RadioError(ValueError):
    """A --radio spec that cannot or must not be used; the message says why."""


@dataclass(frozen=True)
class RadioSpec:
    kind: str
    arg: str

    def __str__(self):
        return f"{self.kind}:{self.arg}"


@dataclass
class FrontEnd:
    """A built front end: the block, and what the application needs to know about it."""

    spec: RadioSpec
    block: object
    finite: bool = False  # a file source: ends by itself after n_samples
    n_samples: int = 0
    sample_rate: float | None = None  # from a SigMF recording
    frequency: float | None = None
    notes: list = field(default_factory=list)


def parse_radio(text: str) -> RadioSpec:
    kind, sep, arg = str(text).partition(":")
    if not sep or kind not in KINDS:
        raise RadioError(f"--radio {text!r}: expected uhd:ARGS, zmq:ENDPOINT or file:PATH")
    if kind == "uhd":
        check_uhd_args(arg)
    elif kind == "zmq" and not arg.startswith(("tcp://", "ipc://", "inproc://")):
        raise RadioError(f"--radio {text!r}: a ZeroMQ endpoint such as tcp://127.0.0.1:5601")
    elif kind == "file" and not arg:
        raise RadioError("--radio file: needs a path (file:rec.sigmf-data or file:iq.cf32)")
    return RadioSpec(kind, arg)


def _uhd_pairs(args: str) -> dict:
    pairs = {}
    for item in filter(None, (s.strip() for s in args.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise RadioError(f"uhd: device arg {item!r} is not key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def _unicast(key: str, value: str) -> None:
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        raise RadioError(f"uhd: {key}={value} is not an IPv4 address; give the device's "
                         f"address (a host name could resolve to a broadcast address)") from None
    octet = int(ip) & 0xFF
    if ip.is_multicast or ip.is_unspecified or octet in (0, 255) or ip == ipaddress.IPv4Address(
            "255.255.255.255"):
        raise RadioError(f"uhd: {key}={value} is a broadcast, network or multicast address; "
                         f"UHD would search the network with it. Give the device's own address")


def check_uhd_args(args: str) -> dict:
    """The device args as a dict, or RadioError if UHD could search the network with them."""
    pairs = _uhd_pairs(args or "")
    hint = ("give explicit device args, e.g. uhd:type=b200,serial=30F1234 (USB) or "
            "uhd:addr=192.168.10.2 (N210/X310); empty args make UHD broadcast a device "
            "search on every network interface, which this kit never does")
    if not pairs:
        raise RadioError(f"uhd: no device args: {hint}")
    for key in ("addr", "second_addr", "mgmt_addr"):
        if key in pairs:
            _unicast(key, pairs[key])
    dev_type = pairs.get("type", "").lower()
    if "addr" in pairs or "resource" in pairs or dev_type in LOCAL_TYPES:
        return pairs
    given = ",".join(f"{k}={v}" for k, v in pairs.items())
    why = (f"type={dev_type} is a network device" if dev_type in NETWORK_TYPES
           else "without addr= or a USB type UHD searches every transport, network included")
    raise RadioError(f"uhd: device args {given!r} do not name the device ({why}): {hint}")


def _uhd_module(uhd):
    if uhd is not None:
        return uhd
    from gnuradio import uhd as gr_uhd  # only after check_uhd_args accepted the args

    return gr_uhd


def _tune(usrp, rate, freq, gain, antenna):
    usrp.set_samp_rate(rate)
    usrp.set_center_freq(freq, 0)
    usrp.set_gain(gain, 0)
    if antenna:
        usrp.set_antenna(antenna, 0)


def make_sink(spec: RadioSpec, rate: float, freq: float, gain: float = 0.0, antenna: str = "",
              uhd=None, description: str = "") -> FrontEnd:
    """The TX end of `spec`: a block with one complex64 input. UHD: the burst tags
    tx_sob/tx_eob on the input start and end each burst (no length tag name)."""
    if spec.kind == "uhd":
        u = _uhd_module(uhd)
        check_uhd_args(spec.arg)
        sink = u.usrp_sink(spec.arg, u.stream_args(cpu_format="fc32", channels=[0]), "")
        _tune(sink, rate, freq, gain, antenna)
        return FrontEnd(spec, sink)
    if spec.kind == "zmq":
        from gnuradio import zeromq

        return FrontEnd(spec, zeromq.push_sink(gr.sizeof_gr_complex, 1, spec.arg, 100, False,
                                               -1))
    return FrontEnd(spec, file_recorder(spec.arg, rate, freq, description))


def make_source(spec: RadioSpec, rate: float, freq: float, gain: float = 0.0,
                antenna: str = "", uhd=None) -> FrontEnd:
    """The RX end of `spec`: a block with one complex64 output."""
    if spec.kind == "uhd":
        u = _uhd_module(uhd)
        check_uhd_args(spec.arg)
        src = u.usrp_source(spec.arg, u.stream_args(cpu_format="fc32", channels=[0]))
        _tune(src, rate, freq, gain, antenna)
        return FrontEnd(spec, src)
    if spec.kind == "zmq":
        from gnuradio import zeromq

        return FrontEnd(spec, zeromq.pull_source(gr.sizeof_gr_complex, 1, spec.arg, 100,
                                                 False, -1))
    path, meta = spec.arg, None
    if is_sigmf(path):
        try:
            meta = read_sigmf_meta(path)
        except (OSError, ValueError) as err:  # missing or unreadable .sigmf-meta
            raise RadioError(f"file: {err}") from None
        path = str(sigmf_paths(path)[0])
    if not os.path.isfile(path):
        raise RadioError(f"file: {path} does not exist")
    n = os.path.getsize(path) // gr.sizeof_gr_complex
    if n == 0:
        raise RadioError(f"file: {path} holds no complete complex64 sample")
    return FrontEnd(spec, blocks.file_source(gr.sizeof_gr_complex, path, False), finite=True,
                    n_samples=n, sample_rate=meta and meta["sample_rate"],
                    frequency=meta and meta["frequency"])


def file_recorder(path: str, rate: float, freq: float, description: str = ""):
    """A complex64 file sink; a SigMF path also gets its .sigmf-meta (written now, with
    the start time of the recording)."""
    if is_sigmf(path):
        data, _ = sigmf_paths(path)
        write_sigmf_meta(path, rate, freq, description)
        path = str(data)
    sink = blocks.file_sink(gr.sizeof_gr_complex, path, False)
    sink.set_unbuffered(False)
    return sink


def radio_sink(radio: str, rate: float, freq: float, gain: float = 0.0, antenna: str = ""):
    """The block of make_sink for a --radio string (GRC's Radio Sink)."""
    return make_sink(parse_radio(radio), rate, freq, gain, antenna).block


def radio_source(radio: str, rate: float, freq: float, gain: float = 0.0, antenna: str = ""):
    """The block of make_source for a --radio string (GRC's Radio Source)."""
    return make_source(parse_radio(radio), rate, freq, gain, antenna).block
