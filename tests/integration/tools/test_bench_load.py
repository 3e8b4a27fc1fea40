"""The bench's load stepping on a real IOC: blocks are switched on in order until the offered rate reaches
the wanted one (the rest off), the capacity is recorded, and produced updates are ticks × block size.
The phases refuse to run without load blocks (a caproto-only run), naming the option that has them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from squirrel.progress import Progress
from squirrel.tools.bench import ca_driver, load, overload
from squirrel.tools.bench.figures import BenchError
from squirrel.tools.bench.harness import Bench, BenchConfig
from squirrel.tools.bench.service import ServiceProcess
from squirrel.tools.bench.softioc import TICK_HZ, IocSet, LoadBlock
from tests.support.caproto_ioc import listed_ports
from tests.support.load_ioc import TICKS, LoadIOC

(LOAD_PORT,) = listed_ports(1)
PREFIX = "BL:"
SIZE = 10  # readbacks per block: each block offers SIZE * TICK_HZ = 100 updates/s
BACKGROUND = 5.0

pytestmark = pytest.mark.usefixtures("ca_purge")


@pytest.fixture(scope="module")
def load_ioc() -> Iterator[LoadIOC]:
    server = LoadIOC(PREFIX, LOAD_PORT)
    server.start()
    yield server
    server.stop()


def _bench(tmp_path: Path, blocks: list[LoadBlock]) -> Bench:
    bench = Bench(cfg=BenchConfig(pvs=100, repeat=1), progress=Progress(1, stream=io.StringIO()))
    bench.workdir = tmp_path
    bench.iocs = IocSet(addr_list="", pairs=[("BL:sp", "BL:rb")], load_blocks=blocks, background_rate=BACKGROUND)
    return bench


@pytest.fixture
def bench(load_ioc: LoadIOC, tmp_path: Path) -> Bench:
    return _bench(tmp_path, [LoadBlock(f"{PREFIX}LOAD:{b}", SIZE) for b in range(len(TICKS))])


async def _enabled() -> list[int]:
    return [int(v) for v in await ca_driver.get_all([f"{PREFIX}LOAD:{b}" for b in range(len(TICKS))], "read back")]


async def test_blocks_are_enabled_in_order_until_the_rate_is_offered(bench: Bench) -> None:
    rate = SIZE * TICK_HZ
    assert await load.set_load(bench, BACKGROUND + 1.5 * rate) == BACKGROUND + 2 * rate  # the step overshoots
    assert await _enabled() == [1, 1, 0]
    assert bench.results.extras["load_capacity_per_s"] == BACKGROUND + 3 * rate
    assert await load.set_load(bench, BACKGROUND + rate) == BACKGROUND + rate  # exactly one block's worth
    assert await _enabled() == [1, 0, 0]
    assert await load.set_load(bench, 1e9) == BACKGROUND + 3 * rate  # more than the IOCs can: all of it
    assert await _enabled() == [1, 1, 1]
    assert await load.set_load(bench, 0) == BACKGROUND  # the background share is always there
    assert await _enabled() == [0, 0, 0]


async def test_produced_counts_ticks_times_block_size(bench: Bench) -> None:
    assert await load.produced(bench) == sum(TICKS) * SIZE


async def test_the_phases_need_load_blocks(tmp_path: Path) -> None:
    bench = _bench(tmp_path, [])
    with pytest.raises(BenchError, match="needs --ioc softioc"):
        await load.ingest_phase(bench)
    bench.svc = ServiceProcess("postgresql://unused", tmp_path, "")  # never started: the check comes first
    with pytest.raises(BenchError, match="needs --ioc softioc"):
        await overload.overload_phase(bench)
    assert await load.set_load(bench, 1000.0) == BACKGROUND  # nothing to switch: no CA call at all
    assert await load.produced(bench) == 0.0
