"""Model service for TokCom: a ZMQ server running the torch models, and its client.

Importing this package never imports torch: GNU Radio blocks use the client, the
protocol and the key helpers.  The server side (``ModelEngine``, ``ServiceServer``,
``serve``) is imported lazily on first attribute access, or directly from its module.
"""

from .client import DEFAULT_ENDPOINT, PredictResult, ServiceClient
from .errors import ClientClosed, ProtocolError, ServiceBusy, ServiceError, ServiceTimeout
from .protocol import ERROR_CODES, OPS, PROTOCOL_VERSION
from .security import CurveClientKeys, generate_keypair, is_loopback_endpoint

_LAZY = {
    "ModelEngine": ".engine",
    "ServiceServer": ".server",
    "main": ".serve",
}

__all__ = [
    "DEFAULT_ENDPOINT",
    "ERROR_CODES",
    "OPS",
    "PROTOCOL_VERSION",
    "ClientClosed",
    "CurveClientKeys",
    "ModelEngine",
    "PredictResult",
    "ProtocolError",
    "ServiceBusy",
    "ServiceClient",
    "ServiceError",
    "ServiceServer",
    "ServiceTimeout",
    "generate_keypair",
    "is_loopback_endpoint",
    "main",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
