"""CurveZMQ key files and the loopback test that decides whether CURVE is mandatory.

Key files use pyzmq's ZPL certificate format (``zmq.auth``): ``NAME.key`` holds the public
key, ``NAME.key_secret`` the public and secret keys.  Torch-free.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth


def generate_keypair(directory, name: str) -> tuple[Path, Path]:
    """Write ``NAME.key`` and ``NAME.key_secret`` into ``directory``; never overwrites."""
    if not zmq.has("curve"):
        raise RuntimeError("this libzmq was built without CURVE support")
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad key name {name!r}")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    public, secret = d / f"{name}.key", d / f"{name}.key_secret"
    for p in (public, secret):
        if p.exists():
            raise FileExistsError(f"{p} exists; refusing to overwrite a key")
    pub_file, sec_file = zmq.auth.create_certificates(d, name)
    # create_certificates leaves the umask's mode; a secret key is for its owner only.
    os.chmod(sec_file, 0o600)
    return Path(pub_file), Path(sec_file)


def load_secret_key(path) -> tuple[bytes, bytes]:
    """``NAME.key_secret`` -> (public, secret) Z85 keys."""
    public, secret = zmq.auth.load_certificate(os.fspath(path))
    if not secret:
        raise ValueError(f"{path} holds no secret key (use the .key_secret file)")
    return public, secret


def load_public_key(path) -> bytes:
    public, _ = zmq.auth.load_certificate(os.fspath(path))
    return public


@dataclass(frozen=True)
class CurveClientKeys:
    """Client side of CURVE: own key pair plus the server's public key (Z85 bytes)."""

    public: bytes
    secret: bytes
    server_public: bytes

    @classmethod
    def from_files(cls, client_secret_file, server_public_file) -> CurveClientKeys:
        public, secret = load_secret_key(client_secret_file)
        return cls(public, secret, load_public_key(server_public_file))

    def apply(self, sock: zmq.Socket) -> None:
        sock.curve_serverkey = self.server_public
        sock.curve_publickey = self.public
        sock.curve_secretkey = self.secret


def _loopback_host(host: str) -> bool:
    host = host.strip("[]")
    if host in ("localhost", "lo"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # wildcard '*', an interface name or a DNS name: treat as exposed


def is_loopback_endpoint(endpoint: str) -> bool:
    """True when ``endpoint`` can only be reached from this machine.

    ``ipc://`` and ``inproc://`` are local; ``tcp://`` is local only for a loopback address
    (``127.0.0.0/8``, ``::1``, ``localhost``).  Anything else counts as exposed.
    """
    transport, sep, rest = endpoint.partition("://")
    if not sep:
        return False
    if transport in ("ipc", "inproc"):
        return True
    if transport != "tcp":
        return False
    host, colon, _port = rest.rpartition(":")
    if not colon:
        return False
    if ";" in host:  # "source;destination" form of connect endpoints
        return False
    return _loopback_host(host)
