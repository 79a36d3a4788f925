#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr-tokcom: token communications (TokCom) blocks for GNU Radio.

Blocks load on first use (PEP 562): `tokcom.coded_link_tx` imports its module then,
C++ blocks come from the compiled bindings. So the torch-side sub-packages (service,
models, training, metrics) import without GNU Radio, and nothing here imports torch.
"""

import importlib
import sys
import types

# Python blocks and helpers: name -> module
_PYTHON = {
    "coded_link_rx": "coded_link_rx",
    "coded_link_tx": "coded_link_tx",
    "loopback_channel": "loopback_channel",
    "frame_evaluator": "frame_evaluator",
    "frame_image_panel": "frame_image_panel",
    "frame_metrics": "frame_metrics",
    "Frame": "frame_pdu",
    "make_frame_pdu": "frame_pdu",
    "parse_frame_pdu": "frame_pdu",
    "image_token_source": "image_token_source",
    "LinkConfig": "link_config",
    "LoopbackConfig": "loopback_flowgraph",
    "build_loopback": "loopback_flowgraph",
    "mask_predict": "mask_predict",
    "ota_channel": "ota_channel",
    "ota_rx": "ota_rx",
    "ota_tx": "ota_tx",
    "message_collector": "message_collector",
    "packet_loss": "packet_loss",
    "radio_sink": "radio",
    "radio_source": "radio",
    "random_frame_source": "random_frame_source",
    "token_error_meter": "token_error_meter",
}

# Helper modules that GRC expressions reach as tokcom.<module>.<name> (flowgraph side:
# torch-free)
_SUBMODULES = ("labeling", "link_config")


def __getattr__(name):
    if name in _PYTHON:
        value = getattr(importlib.import_module(f".{_PYTHON[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        try:  # C++ blocks and token_layout
            bindings = importlib.import_module(".tokcom_python", __name__)
        except ModuleNotFoundError:  # source tree without the compiled module
            raise AttributeError(f"module {__name__!r} has no attribute {name!r} "
                                 f"(the compiled bindings are not installed)") from None
        try:
            value = getattr(bindings, name)
        except AttributeError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    names = set(globals()) | set(_PYTHON)
    try:
        names |= {n for n in dir(importlib.import_module(".tokcom_python", __name__))
                  if not n.startswith("_")}
    except ModuleNotFoundError:
        pass
    return sorted(names)


class _Package(types.ModuleType):
    """Keeps `tokcom.coded_link_tx` the block: importing the submodule of the same name
    makes Python set the package attribute to the module, which this turns back into the
    block the module defines."""

    def __setattr__(self, name, value):
        if (name in _PYTHON and isinstance(value, types.ModuleType)
                and value.__name__ == f"{__name__}.{_PYTHON[name]}"):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
