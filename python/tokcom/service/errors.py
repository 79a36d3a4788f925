"""Exceptions of the model service (torch-free; shared by client and server)."""

from __future__ import annotations


class ServiceError(Exception):
    """The service answered a request with an error reply (``code`` from the protocol)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ProtocolError(ServiceError):
    """A message breaks the protocol; the server turns it into an error reply.

    ``request_id`` and ``op`` are filled in once known, so the reply can be matched.
    """

    def __init__(self, code: str, message: str, request_id: str | None = None,
                 op: str | None = None):
        super().__init__(code, message)
        self.request_id = request_id
        self.op = op


class ServiceTimeout(ServiceError):
    """No reply within the timeout after every retry (client side)."""

    def __init__(self, message: str):
        super().__init__("TIMEOUT", message)


class ServiceBusy(ServiceError):
    """The client already has its maximum number of outstanding requests."""

    def __init__(self, message: str):
        super().__init__("BUSY", message)


class ClientClosed(ServiceError):
    """The client was closed before the request was answered."""

    def __init__(self, message: str = "client closed"):
        super().__init__("CLOSED", message)
