#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr-tokcom: token communications (TokCom) blocks for GNU Radio.

C++ blocks come from the compiled bindings; Python blocks are imported below.
Nothing here imports torch: the models live in their own sub-packages and are
used by the service process only.
"""

try:
    from .tokcom_python import *  # noqa: F401,F403  (C++ blocks and token_layout)
except ModuleNotFoundError:  # source tree without the compiled module (model work only)
    _HAVE_BINDINGS = False
else:
    _HAVE_BINDINGS = True

if _HAVE_BINDINGS:
    from .coded_link_rx import coded_link_rx  # noqa: F401
    from .coded_link_tx import coded_link_tx  # noqa: F401
    from .loopback_channel import loopback_channel  # noqa: F401
from . import labeling  # noqa: F401  (token labelings for the semantic mapper)
from .frame_metrics import frame_metrics  # noqa: F401
from .frame_pdu import Frame, make_frame_pdu, parse_frame_pdu  # noqa: F401
from .image_token_source import image_token_source  # noqa: F401
from .mask_predict_sink import mask_predict_sink  # noqa: F401
from .packet_loss import packet_loss  # noqa: F401
from .random_frame_source import random_frame_source  # noqa: F401
from .token_error_meter import token_error_meter  # noqa: F401
