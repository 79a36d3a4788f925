"""Radio front ends for the over-the-air kit (tokcom-tx, tokcom-rx; docs/ota.md, runbook).

``--radio uhd:ARGS`` (a USRP via gr-uhd), ``zmq:ENDPOINT`` (IQ over gr-zeromq between two
processes) or ``file:PATH`` (raw complex64 or SigMF). :func:`make_source` and
:func:`make_sink` build the GNU Radio block of a spec; ``uhd=`` injects a stand-in for
gr-uhd (tests use :class:`FakeUHD`, never a real USRP block).
"""

from .fake_uhd import FakeUHD
from .frontends import (
    FrontEnd,
    RadioError,
    RadioSpec,
    check_uhd_args,
    make_sink,
    make_source,
    parse_radio,
    radio_sink,
    radio_source,
)
from .sigmf import is_sigmf, read_sigmf_meta, sigmf_paths, write_sigmf_meta

__all__ = ["FakeUHD", "FrontEnd", "RadioError", "RadioSpec", "check_uhd_args", "is_sigmf",
           "make_sink", "make_source", "parse_radio", "radio_sink", "radio_source",
           "read_sigmf_meta", "sigmf_paths", "write_sigmf_meta"]
