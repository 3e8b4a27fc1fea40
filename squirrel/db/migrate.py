"""Apply sql/migrations/NNNN_*.sql in order, each in its own transaction, with checksums."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg
import structlog

from squirrel.db._sqlfiles import sql_dir
from squirrel.errors import ConfigError

log = structlog.get_logger(__name__)
_LOCK_ID = 0x5351_5249  # "SQRI": serialises concurrent migrators


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(folder: Path | None = None) -> list[Migration]:
    folder = folder or sql_dir() / "migrations"
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        version_text, _, name = path.stem.partition("_")
        migrations.append(Migration(int(version_text), name, path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ConfigError(f"duplicate migration versions in {folder}")
    return migrations


async def migrate(conninfo: str) -> list[int]:
    """Bring the schema up to date; returns the versions applied now."""
    applied_now: list[int] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL,"
            " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in discover():
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
                cur = await conn.execute(
                    "SELECT checksum FROM schema_migrations WHERE version = %s", (migration.version,)
                )
                row = await cur.fetchone()
                if row is not None:
                    if row[0] != migration.checksum:
                        raise ConfigError(
                            f"migration {migration.version}_{migration.name} was changed after it was applied"
                        )
                    continue
                await conn.execute(migration.sql.encode())
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                applied_now.append(migration.version)
                log.info("migration applied", version=migration.version, name=migration.name)
    return applied_now
