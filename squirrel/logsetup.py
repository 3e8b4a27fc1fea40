"""structlog configuration: JSON lines when not a TTY, console otherwise; secrets are masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote

import structlog

_TOKEN = re.compile(r"sq_[A-Za-z0-9_\-]{8,}")
_QUERY_KEY = re.compile(r"(api_key=)[^&\s\"'#]+", re.IGNORECASE)
# Query strings ("GET /v1/x?a=b", "WebSocket /v1/ws?api_key=...", "http://h/x?a=b") are never logged.
# Cut word by word (linear: a regex spanning URLs backtracks quadratically on long odd strings).
_WORDS = re.compile(r"([\s\"'<>]+)")
_URLISH = re.compile(r"^[(\[]?/|://|=/")
_CLOSING = re.compile(r"[)\]]")
_SECRET_KEYS = {"api_key", "x-api-key", "token", "password", "authorization", "cookie"}


def mask_text(text: str) -> str:
    """`text` without query strings and API keys, also when they hide behind percent-encoding
    (`?api%5Fkey=`, `sq%5F...`, `%253F` decoded once by the server)."""
    if "%" in text:
        decoded = _unquote_fully(text)
        if decoded != text and (_TOKEN.search(decoded) or _QUERY_KEY.search(decoded) or "?" in decoded):
            text = decoded
    text = _drop_query_strings(text)
    text = _QUERY_KEY.sub(r"\1***", text)
    return _TOKEN.sub("sq_***", text)


def _drop_query_strings(text: str) -> str:
    if "?" not in text:
        return text
    words = _WORDS.split(text)
    for i, word in enumerate(words):
        cut = word.find("?")
        if cut > 0 and _URLISH.search(word, 0, cut):
            closing = _CLOSING.search(word, cut)  # "(see /v1/x?a=b)" keeps its ")"
            words[i] = word[:cut] + (word[closing.start() :] if closing else "")
    return "".join(words)


def _unquote_fully(text: str) -> str:
    for _ in range(4):  # double- and triple-encoding too; bounded
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: "***" if str(k).lower() in _SECRET_KEYS and v else _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_masked(v) for v in value)
    return value


def _mask_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key.startswith("_"):
            continue  # structlog's own entries (_record, _from_structlog)
        if key.lower() in _SECRET_KEYS and value:
            event[key] = "***"
        else:
            event[key] = _masked(value)
    return event


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the time of the write, not the one seen at configuration.

    A stream captured once goes stale when stderr is swapped (test capture, a redirect); writing to
    the closed one would raise from every later log call."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


_STDERR: Any = _CurrentStderr()


def configure_logging(level: str = "info", json: bool | None = None) -> None:
    as_json = (not sys.stderr.isatty()) if json is None else json
    numeric = logging.getLevelName(level.upper())
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_secrets,  # after format_exc_info, so tracebacks are masked too
    ]
    renderer: Any = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_STDERR),
        cache_logger_on_first_use=False,
    )
    # Route stdlib logging (uvicorn, psycopg, saq) through the same renderer; `force` replaces any
    # handler a library installed at import.
    handler = logging.StreamHandler(_STDERR)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *processors],
        )
    )
    logging.basicConfig(level=numeric, handlers=[handler], force=True)
    # uvicorn's own log config (if one ran in this process) gives its loggers handlers that skip the
    # masking above and print query strings: send them through the root handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
