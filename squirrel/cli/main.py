"""The `squirrel` command: serve, migrate, check-config, keys, sim-ioc, demo, bench."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import socket
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from squirrel.errors import ConfigError, SquirrelError
from squirrel.logsetup import configure_logging
from squirrel.settings import ALL_ROLES, Settings, load_settings

if TYPE_CHECKING:
    from squirrel.db.embedded import DataFolderLock

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Handler] = {}


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "roles": getattr(args, "roles", None),
        "data_dir": getattr(args, "data_dir", None),
        "database_url": getattr(args, "database_url", None),
    }
    return load_settings(**overrides)


def check_database(settings: Settings) -> None:
    """An external database must answer before anything starts (the embedded one reports its own start)."""
    if settings.database_url:
        from squirrel.db.probe import probe

        probe(settings.database_url, str(settings.masked()["database_url"]))


def claim_data_folder(settings: Settings) -> DataFolderLock | None:
    """With the embedded database, the data folder's lock, held until released or this process ends
    (a second service on one folder would mix machines); an external database needs none."""
    if settings.database_url:
        return None
    from squirrel.db.embedded import DataFolderLock

    lock = DataFolderLock(settings.data_path)
    lock.acquire()
    return lock


def bind_listener(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything starts: a taken port is said at once, in one line,
    instead of after migrations ran and a worker started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn binds: connections of a previous run in TIME_WAIT must not count as "in use".
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except socket.gaierror as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}; check --host / SQUIRREL_HOST") from None
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}; stop what uses it or pass --port / SQUIRREL_PORT"
        ) from None
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from squirrel.app import create_app

    settings = _settings(args)
    lock = claim_data_folder(settings)
    sock = bind_listener(settings.host, settings.port)
    check_database(settings)
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        if lock is not None:
            lock.release()  # after the embedded database was left (the lifespan ended)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from squirrel.db.migrate import migrate
    from squirrel.services.context import resolve_database

    settings = _settings(args)
    check_database(settings)
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> list[int]:
        async with AsyncExitStack() as stack:
            return await migrate(await resolve_database(settings, stack))

    applied = asyncio.run(run())
    print(f"applied migrations: {applied}" if applied else "schema is up to date")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """The effective configuration as JSON on stdout, then (stderr) whether the database answers."""
    settings = _settings(args)
    print(json.dumps(settings.masked(), indent=2, sort_keys=True), flush=True)
    if settings.database_url:
        from squirrel.db.probe import probe

        shown = str(settings.masked()["database_url"])
        print(f"database: ok, {probe(settings.database_url, shown)} at {shown}", file=sys.stderr)
        return 0
    from squirrel.db.embedded import EmbeddedPostgres
    from squirrel.db.probe import probe

    configure_logging("warning", settings.log_json)
    embedded = EmbeddedPostgres(settings.data_path)
    try:
        version = probe(embedded.start(), str(embedded.pgdata))  # joins a running one, else starts it
    finally:
        embedded.stop()  # stops it only if no other process uses it
    print(f"database: ok, embedded {version} in {embedded.pgdata}", file=sys.stderr)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from uuid import UUID

    from squirrel.services.context import build_context
    from squirrel.services.keys import SYSTEM, KeyService

    settings = _settings(args)
    check_database(settings)
    configure_logging("warning", settings.log_json)

    async def run() -> int:
        async with build_context(settings, for_command=True) as ctx:
            keys = KeyService(ctx)
            if args.keys_command == "create":
                key = await keys.create(SYSTEM, args.name, [s.strip() for s in args.scopes.split(",") if s.strip()])
                print(f"created key {key.id} '{key.app_name}' scopes={','.join(key.scopes)}")
                print(key.token)
            elif args.keys_command == "list":
                for k in await keys.list(include_inactive=args.all):
                    state = "active" if k.is_active else "revoked"
                    print(f"{k.id}  {k.app_name:<30} {','.join(k.scopes):<28} {state}")
            else:
                try:
                    key_id = UUID(args.id)
                except ValueError:
                    raise SquirrelError(f"not a key id: {args.id!r}") from None
                revoked = await keys.revoke(SYSTEM, key_id)
                print(f"revoked key {revoked.id} '{revoked.app_name}'")
        return 0

    return asyncio.run(run())


def _add_db_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="data folder (SQUIRREL_DATA_DIR)")
    p.add_argument("--database-url", help="PostgreSQL URL (SQUIRREL_DATABASE_URL); unset = embedded")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="squirrel", description="Save, compare and restore for EPICS.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service (API, monitor, worker)")
    serve.add_argument("--host", help="bind address (SQUIRREL_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (SQUIRREL_PORT, default 8080)")
    serve.add_argument(
        "--roles",
        type=lambda s: [r.strip() for r in s.split(",") if r.strip()],
        help=f"comma list of {','.join(ALL_ROLES)} (SQUIRREL_ROLES, default all)",
    )
    _add_db_flags(serve)
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply database migrations")
    _add_db_flags(mig)
    mig.set_defaults(func=cmd_migrate)

    chk = sub.add_parser(
        "check-config", help="print the effective configuration (secrets masked) and test the database connection"
    )
    _add_db_flags(chk)
    chk.set_defaults(func=cmd_check_config)

    keys = sub.add_parser("keys", help="manage API keys")
    _add_db_flags(keys)
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    kc = ksub.add_parser("create", help="create a key; prints the token alone on the last line")
    kc.add_argument("name")
    kc.add_argument("--scopes", default="read", help="comma list of read,write,restore,admin")
    kl = ksub.add_parser("list", help="list keys")
    kl.add_argument("--all", action="store_true", help="include revoked keys")
    kr = ksub.add_parser("revoke", help="revoke a key")
    kr.add_argument("id")
    keys.set_defaults(func=cmd_keys)

    for module in _EXTRA_COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


# Commands living in their own modules register here; imported when the parser is built, so a
# plain `squirrel serve` does not load the bench or the simulator.
_EXTRA_COMMANDS = ("squirrel.cli.bench", "squirrel.cli.sim", "squirrel.cli.demo", "squirrel.cli.ops")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except SquirrelError as exc:
        print(f"squirrel: error: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
