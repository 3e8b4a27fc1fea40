"""probe(): one connection attempt before start-up, failing as one ConfigError line that says what to fix."""

from __future__ import annotations

import psycopg
import pytest

from squirrel.db.probe import probe
from squirrel.errors import ConfigError
from squirrel.tools.sim import free_port


def test_a_reachable_database_answers_its_version(database_url: str) -> None:
    version = probe(database_url, "db")
    assert version.startswith("PostgreSQL ") and version.split()[1][0].isdigit()


def test_a_url_that_does_not_parse_names_the_expected_form() -> None:
    with pytest.raises(ConfigError, match="SQUIRREL_DATABASE_URL is not a PostgreSQL URL") as caught:
        probe("postgresql://x/y?bogus_option=1", "shown")
    assert 'invalid URI query parameter: "bogus_option"' in caught.value.detail
    assert "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" in caught.value.detail
    assert "\n" not in caught.value.detail


def test_an_unreachable_server_is_named_as_shown_without_its_secret() -> None:
    url = f"postgresql://squirrel:s3cret@127.0.0.1:{free_port()}/squirrel"
    with pytest.raises(ConfigError) as caught:
        probe(url, "postgresql://squirrel:***@127.0.0.1/squirrel")
    detail = caught.value.detail
    assert detail.startswith("cannot connect to the database postgresql://squirrel:***@127.0.0.1/squirrel: ")
    assert "s3cret" not in detail and "\n" not in detail and "connection failed: " not in detail
    assert detail.endswith("and that PostgreSQL runs there")


def test_a_missing_database_says_so(database_url: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    info["dbname"] = "no_such_database_here"
    with pytest.raises(ConfigError, match='database "no_such_database_here" does not exist'):
        probe(psycopg.conninfo.make_conninfo(**info), "shown")  # type: ignore[arg-type]
