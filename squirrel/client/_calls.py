"""The request-building layer: a `Call` says what to send and how to read the answer; no I/O here.

Operations are written once as methods returning a `Call` and decorated with `@operation`; reading one
from a `Client` gives a function that sends it and returns the decoded answer, from an `AsyncClient`
the same function returning an awaitable. The two clients only differ in how they send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload
from urllib.parse import quote
from uuid import UUID

import msgspec

from squirrel.client._errors import error_for

T = TypeVar("T")
P = ParamSpec("P")
Params = tuple[tuple[str, str], ...]
Id = UUID | str


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    decode: Callable[[bytes], T]
    params: Params = ()
    content: bytes | None = None
    content_type: str | None = None

    def answer(self, status: int, body: bytes) -> T:
        """The decoded answer of a 2xx; raises the matching ApiError otherwise."""
        if status >= 400:
            raise error_for(status, json_or_none(body), body.decode("utf-8", "replace"))
        return self.decode(body)


def json_or_none(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None


def as_json(kind: type[T]) -> Callable[[bytes], T]:
    decoder = msgspec.json.Decoder(kind)
    return decoder.decode


def as_text(body: bytes) -> str:
    return body.decode("utf-8")


def as_any(body: bytes) -> Any:
    return msgspec.json.decode(body)


def seg(value: Id) -> str:
    """One path segment, escaped (a name with '/' must not change the route)."""
    return quote(str(value), safe="")


def query(**values: Any) -> Params:
    """Query parameters the way the server parses them: true|false, lists repeated, None left out."""
    out: list[tuple[str, str]] = []
    for name, value in values.items():
        if value is None:
            continue
        items: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
        for item in items:
            out.append((name, ("true" if item else "false") if isinstance(item, bool) else str(item)))
    return tuple(out)


def json_call(method: str, path: str, decode: Callable[[bytes], T], body: Any, params: Params | None = None) -> Call[T]:
    return Call(method, path, decode, params or (), msgspec.json.encode(body), "application/json")


def file_call(
    path: str, decode: Callable[[bytes], T], data: str | bytes, content_type: str, params: Params = ()
) -> Call[T]:
    """POST a file's content as it is (text is sent as UTF-8)."""
    content = data.encode() if isinstance(data, str) else data
    return Call("POST", path, decode, params, content, content_type)


class SyncSender:
    """Marker base of the blocking client; `_send` does the I/O."""

    def _send(self, call: Call[T]) -> T:
        raise NotImplementedError


class AsyncSender:
    """Marker base of the asyncio client; `_send` does the I/O."""

    async def _send(self, call: Call[T]) -> T:
        raise NotImplementedError


class operation(Generic[P, T]):  # lower case: it is used as a decorator
    """A method that builds a Call, exposed on each client as the method that sends it."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__

    @overload
    def __get__(self, obj: SyncSender, owner: Any) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: AsyncSender, owner: Any) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, obj: None, owner: Any) -> operation[P, T]: ...
    def __get__(self, obj: Any, owner: Any) -> Any:
        if obj is None:
            return self
        build = self.build

        def send(*args: P.args, **kwargs: P.kwargs) -> Any:
            return obj._send(build(obj, *args, **kwargs))

        send.__doc__ = build.__doc__
        send.__name__ = build.__name__
        return send
