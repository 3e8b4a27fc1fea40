"""Where the client connects and with which key: arguments, SQUIRREL_URL / SQUIRREL_API_KEY, or a key file."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from squirrel.client._errors import ConfigurationError

DEFAULT_URL = "http://127.0.0.1:8080"


def read_key_file(path: str | os.PathLike[str]) -> str:
    """The token in a key file that only its owner can read (like ssh, group/world access is refused)."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read key file {p}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise ConfigurationError(f"key file {p} is not a regular file")
    if mode & 0o077:
        raise ConfigurationError(
            f"key file {p} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {p}"
        )
    token = text.strip()
    if not token or len(token.split()) != 1:
        raise ConfigurationError(f"key file {p} must hold exactly one token")
    return token


@dataclass(frozen=True)
class ClientConfig:
    url: str = DEFAULT_URL
    api_key: str | None = None

    @classmethod
    def resolve(
        cls, url: str | None = None, api_key: str | None = None, key_file: str | os.PathLike[str] | None = None
    ) -> ClientConfig:
        """Explicit values first, then the environment: a key argument, a key file, SQUIRREL_API_KEY."""
        base = (url or os.environ.get("SQUIRREL_URL") or DEFAULT_URL).rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"the server URL must be http(s)://host[:port], not {base!r}")
        if api_key is None and key_file is not None:
            api_key = read_key_file(key_file)
        if api_key is None:
            api_key = os.environ.get("SQUIRREL_API_KEY") or None
        return cls(base, api_key)

    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key} if self.api_key else {}
