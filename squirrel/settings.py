"""Service settings: SQUIRREL_* environment variables read into one frozen Struct."""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from squirrel.errors import ConfigError

Role = Literal["api", "monitor", "worker"]
ALL_ROLES: tuple[Role, ...] = ("api", "monitor", "worker")
_LIST_FIELDS = {"roles", "cors_origins"}
_SECRET_FIELDS = {"database_url", "redis_url"}


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Effective configuration; every field has an env var SQUIRREL_<FIELD_NAME_UPPER>."""

    database_url: str | None = None
    data_dir: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    roles: tuple[Role, ...] = ALL_ROLES
    anonymous: Literal["none", "read"] = "none"
    cors_origins: tuple[str, ...] = ()
    api_envelope: bool = False
    redis_url: str | None = None
    redis_namespace: str = "squirrel"
    migrate_on_start: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool | None = None
    db_pool_min: int = 2
    db_pool_max: int = 10
    metrics_enabled: bool = True
    default_protocol: Literal["ca", "pva"] = "ca"  # for bare addresses, fixed per PV when it is registered
    ca_timeout: float = 2.0
    ca_put_timeout: float = 10.0
    # Seconds of silence before libca probes a CA server and, unanswered, reports its channels down
    # (EPICS_CA_CONN_TMO, libca's default 30 s; a hung IOC looked connected that long). A site that sets
    # EPICS_CA_CONN_TMO itself keeps its value.
    ca_conn_tmo: float = 10.0
    # CA puts with completion in flight per IOC: the IOC completes them through its callback queue
    # (callbackQueueSize, 2000 by default), and an overflow drops completions (squirrel.epics._window).
    ca_put_window: int = 500
    breaker_failures: int = 3
    breaker_cooldown: float = 10.0
    sse_heartbeat: float = 5.0
    sse_min_interval: float = 0.1
    sse_queue_size: int = 10000
    stale_max_age: float = 0.0
    # A cache snapshot first waits until each PV delivered its first value or was subscribed this long.
    snapshot_warmup: float = 10.0
    job_retention_days: int = 30

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"SQUIRREL_PORT must be 1..65535, got {self.port}")
        if not self.roles:
            raise ConfigError("SQUIRREL_ROLES must name at least one of api, monitor, worker")
        if self.db_pool_min < 1 or self.db_pool_max < self.db_pool_min:
            raise ConfigError("SQUIRREL_DB_POOL_MIN must be >= 1 and <= SQUIRREL_DB_POOL_MAX")
        positive = ("ca_timeout", "ca_put_timeout", "ca_conn_tmo", "breaker_cooldown")
        for name in (*positive, "sse_heartbeat", "sse_min_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"SQUIRREL_{name.upper()} must be > 0")
        if not 1 <= self.ca_put_window <= 100_000:
            raise ConfigError("SQUIRREL_CA_PUT_WINDOW must be 1..100000 puts in flight per IOC")
        if not 0 <= self.snapshot_warmup <= 3600:
            raise ConfigError("SQUIRREL_SNAPSHOT_WARMUP must be 0..3600 seconds (0: no warm-up wait)")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def masked(self) -> dict[str, Any]:
        """The settings as a dict with secrets masked, for check-config and logs."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        for name in _SECRET_FIELDS:
            if out.get(name):
                out[name] = _mask_url(out[name])
        out["data_dir"] = str(self.data_path)
        return out


def apply_ca_environment(settings: Settings, env: MutableMapping[str, str] | None = None) -> None:
    """Hand SQUIRREL_CA_CONN_TMO to libca as EPICS_CA_CONN_TMO unless the site set that itself.

    libca reads it once, when the process's CA context is made: call this before any CA use."""
    env = os.environ if env is None else env
    env.setdefault("EPICS_CA_CONN_TMO", f"{settings.ca_conn_tmo:g}")


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        # The embedded server makes every parent of its folder world-readable when root: not under /root.
        return Path("/var/lib/squirrel")
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "squirrel"


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read SQUIRREL_* variables (plus explicit overrides, e.g. CLI flags) into Settings."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    fields = set(Settings.__struct_fields__)
    for key, value in env.items():
        if not key.startswith("SQUIRREL_"):
            continue
        name = key.removeprefix("SQUIRREL_").lower()
        if name not in fields:
            continue
        raw[name] = _split(value) if name in _LIST_FIELDS else (value if value != "" else None)
    raw = {k: v for k, v in raw.items() if v is not None}
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_env_name(str(exc))}") from exc


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _env_name(message: str) -> str:
    # msgspec says "at `$.port`"; name the variable the operator actually sets.
    if "`$." in message:
        head, _, tail = message.partition("`$.")
        field, _, rest = tail.partition("`")
        field = field.split("[", 1)[0]
        return f"{head}SQUIRREL_{field.upper()}{rest}"
    return message
