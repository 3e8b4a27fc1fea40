"""Protocol-prefixed PV addresses: `ca://NAME`, `pva://NAME` or a bare NAME.

The registry stores each address twice over: the *channel key* every other part of Squirrel uses (a
CA address is the bare name, a PVA address is `pva://NAME`; the monitor, the cache, snapshots and
restores all speak keys) and, when it differs, the address as written at registration, which answers
and exports show. A bare name takes SQUIRREL_DEFAULT_PROTOCOL when it is registered, so changing the
default later changes no stored PV, and `FOO` and `ca://FOO` are the same key (409 on the second).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from typing import Literal

from squirrel.errors import ValidationError

Protocol = Literal["ca", "pva"]
PROTOCOLS: tuple[Protocol, ...] = ("ca", "pva")
PVA_PREFIX = "pva://"
_SEPARATOR = "://"


class AddressError(ValueError):
    """An address with an unknown protocol prefix or no name after its prefix."""


def split(address: str) -> tuple[Protocol | None, str]:
    """(protocol written, bare name); None when the address has no prefix."""
    scheme, sep, name = address.partition(_SEPARATOR)
    if not sep:
        return None, address
    lowered = scheme.lower()
    protocol: Protocol | None = "ca" if lowered == "ca" else "pva" if lowered == "pva" else None
    if protocol is not None:
        if not name.strip():
            raise AddressError(f"{address!r} has no PV name after its {scheme}:// prefix")
        return protocol, name
    raise AddressError(f"{address!r} has an unknown protocol prefix {scheme + sep!r}; use ca:// or pva://")


def channel_key(address: str, default: Protocol = "ca") -> str:
    """The key of a written address: the bare name for CA, `pva://NAME` for PVA."""
    written, name = split(address)
    return PVA_PREFIX + name if (written or default) == "pva" else name


def request_key(address: str, default: Protocol, where: str) -> str:
    """channel_key for an address a request (body, query, file) names: a bad one is a 400 saying where."""
    try:
        return channel_key(address, default)
    except AddressError as exc:
        raise ValidationError(f"{where}: {exc}") from None


def protocol_of(key: str) -> Protocol:
    """The protocol of a channel key (as channel_key makes them)."""
    return "pva" if key.startswith(PVA_PREFIX) else "ca"


def by_protocol(keys: Iterable[str]) -> dict[Protocol, list[str]]:
    """Channel keys grouped by protocol, each group in the order given (one pass; 50K keys per snapshot)."""
    ca: list[str] = []
    pva: list[str] = []
    for key in keys:
        (pva if key.startswith(PVA_PREFIX) else ca).append(key)
    return {"ca": ca, "pva": pva}


def pva_name(key: str) -> str:
    """The PVA channel name of a `pva://` key."""
    return key[len(PVA_PREFIX) :]


_NAMES = {"ca": "Channel Access", "pva": "PVAccess"}


def other_key(key: str) -> str:
    """The same name under the other protocol (FOO <-> pva://FOO): where a protocol mix-up finds it."""
    return pva_name(key) if protocol_of(key) == "pva" else PVA_PREFIX + key


def mix_up(address: str, key: str) -> str:
    """Why `address` (channel key `key`) finds nothing when its name is known under the other protocol:
    never matched silently, since a PV is its name and its protocol."""
    asked, known = protocol_of(key), protocol_of(other_key(key))
    name = split(address)[1]
    return f"{address} names {_NAMES[asked]}, but {name} is a {_NAMES[known]} PV ({known}://{name})"


def pva_available() -> bool:
    """Is the optional `p4p` package (the `squirrel[pva]` extra) importable? Checked without importing it."""
    return importlib.util.find_spec("p4p") is not None


PVA_MISSING = "PVAccess needs the optional p4p package: install squirrel[pva] (pip install 'squirrel[pva]')"
