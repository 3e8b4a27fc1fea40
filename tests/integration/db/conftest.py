"""Fixtures shared by the db tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from squirrel.db.pool import SquirrelPool, make_pool, open_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[SquirrelPool]:
    """A small open pool on this test's own database."""
    p = make_pool(database_url, 1, 2)
    await open_pool(p)
    yield p
    await p.close()
