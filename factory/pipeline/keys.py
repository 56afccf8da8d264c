"""CURVE keys: every station authenticates with its own key pair; unknown keys are refused.

Layout of a key directory (``factory keys --dir DIR NAME ...`` makes it)::

    DIR/controller.key          the controller's public key (every station needs it)
    DIR/controller.key_secret   the controller's secret key (the controller only)
    DIR/authorized/NAME.key     public keys of the stations the controller accepts
    DIR/private/NAME.key_secret a station's key pair (copy it to that station only)

A station's name (``P01``, ``qa1``, ``intake``) is the file name of its key;
the controller's authenticator (ZAP, in a thread of the controller process)
admits only keys found in ``authorized/`` and tags each connection with that
name, so a hello claiming another station's name is refused. Removing a file
from ``authorized/`` and restarting the controller revokes a station.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from factory.errors import FactoryError, InvalidField

__all__ = [
    "CONTROLLER",
    "ServerKeys",
    "ClientKeys",
    "require_curve",
    "make_keys",
    "load_server_keys",
    "load_client_keys",
    "authorized_names",
    "start_authenticator",
    "secure_server",
    "secure_client",
]

CONTROLLER = "controller"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class ServerKeys:
    public: bytes
    secret: bytes
    authorized_dir: Path


@dataclass(frozen=True, slots=True)
class ClientKeys:
    name: str
    public: bytes
    secret: bytes
    server_public: bytes


def require_curve() -> None:
    """Fail clearly when this libzmq was built without CURVE (libsodium)."""
    if not zmq.has("curve"):
        raise FactoryError("this libzmq has no CURVE support; install a pyzmq wheel built with libsodium")


def _check_name(name: str) -> str:
    if not _NAME.match(name) or name == CONTROLLER:
        raise InvalidField("name", "must be 1-40 letters, digits, '-' or '_' and not 'controller'", name)
    return name


def make_keys(directory: Path, names: list[str], *, replace: bool = False) -> list[Path]:
    """Create the controller's key pair (if missing) and one per station name; returns the files written.

    Existing station keys are kept unless ``replace`` (a key rotation).
    """
    require_curve()
    for name in names:
        _check_name(name)
    directory = Path(directory)
    (directory / "authorized").mkdir(parents=True, exist_ok=True)
    private = directory / "private"
    private.mkdir(exist_ok=True)
    os.chmod(private, 0o700)
    written: list[Path] = []
    if not (directory / f"{CONTROLLER}.key_secret").exists():
        public, secret = zmq.auth.create_certificates(directory, CONTROLLER)
        os.chmod(secret, 0o600)
        written += [Path(public), Path(secret)]
    for name in names:
        secret_file = private / f"{name}.key_secret"
        if secret_file.exists() and not replace:
            continue
        public, secret = zmq.auth.create_certificates(private, name)
        os.chmod(secret, 0o600)
        target = directory / "authorized" / f"{name}.key"
        os.replace(public, target)
        written += [target, Path(secret)]
    return written


def _load(path: Path, what: str) -> tuple[bytes, bytes | None]:
    try:
        return zmq.auth.load_certificate(path)
    except (OSError, ValueError) as err:
        raise FactoryError(f"{path}: cannot read the {what} ({err}); run `factory keys`") from None


def load_server_keys(directory: Path) -> ServerKeys:
    require_curve()
    directory = Path(directory)
    public, secret = _load(directory / f"{CONTROLLER}.key_secret", "controller's secret key")
    if secret is None:
        raise FactoryError(f"{directory / (CONTROLLER + '.key_secret')}: holds no secret key")
    return ServerKeys(public=public, secret=secret, authorized_dir=directory / "authorized")


def load_client_keys(directory: Path, name: str) -> ClientKeys:
    require_curve()
    directory = Path(directory)
    _check_name(name)
    public, secret = _load(directory / "private" / f"{name}.key_secret", f"key pair of {name}")
    server_public, _ = _load(directory / f"{CONTROLLER}.key", "controller's public key")
    if secret is None:
        raise FactoryError(f"{directory / 'private' / (name + '.key_secret')}: holds no secret key")
    return ClientKeys(name=name, public=public, secret=secret, server_public=server_public)


def authorized_names(authorized_dir: Path) -> dict[bytes, str]:
    """Public key (z85) -> station name, for every key in ``authorized/``."""
    names: dict[bytes, str] = {}
    for path in sorted(Path(authorized_dir).glob("*.key")):
        public, _ = _load(path, "public key")
        names[public] = path.stem
    return names


class _NamingAuthenticator(ThreadAuthenticator):
    """Admits the authorized keys and names each connection after its key's file."""

    def __init__(self, context: zmq.Context, names: dict[bytes, str]) -> None:
        super().__init__(context)
        self._names = names

    def curve_user_id(self, client_public_key: bytes) -> str:
        z85_key = zmq.utils.z85.encode(client_public_key)
        return self._names.get(z85_key, "")


def start_authenticator(context: zmq.Context, keys: ServerKeys) -> ThreadAuthenticator:
    """Start ZAP for ``context``: only keys in ``authorized/`` get in. Stop it with ``.stop()``."""
    names = authorized_names(keys.authorized_dir)
    auth = _NamingAuthenticator(context, names)
    auth.start()
    auth.configure_curve(domain="*", location=str(keys.authorized_dir))
    return auth


def secure_server(socket: zmq.Socket, keys: ServerKeys) -> None:
    """Make ``socket`` a CURVE server (call before bind)."""
    socket.curve_secretkey = keys.secret
    socket.curve_publickey = keys.public
    socket.curve_server = True


def secure_client(socket: zmq.Socket, keys: ClientKeys) -> None:
    """Make ``socket`` a CURVE client of the controller (call before connect)."""
    socket.curve_secretkey = keys.secret
    socket.curve_publickey = keys.public
    socket.curve_serverkey = keys.server_public
