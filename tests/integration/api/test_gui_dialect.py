"""The released react-squirrel GUI's dialect (SQUIRREL_API_ENVELOPE=true), answered exactly as API.md says:
heartbeat {timestamp, alive, age_seconds}, numeric alarm status/severity, cancelled jobs as failed,
errors labelled application/json. Outside envelope mode the usual shapes stay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.apps import MakeApi, app_clients
from tests.support.snapshots import put_value

pytestmark = pytest.mark.usefixtures("ca_purge")


@pytest.fixture
async def client_for(database_url: str) -> AsyncIterator[MakeApi]:
    async with app_clients(database_url) as make:
        yield make


def unwrap(body: Any) -> Any:
    """The payload of an enveloped answer; a plain answer as it is."""
    return body["payload"] if isinstance(body, dict) and "errorCode" in body else body


async def create_pvs(api: Api, n: int, prefix: str) -> list[dict[str, Any]]:
    body = [{"setpointAddress": f"{prefix}:{i}:SP", "readbackAddress": f"{prefix}:{i}:RB"} for i in range(n)]
    r = await api.post("/v1/pvs/multi", json=body)
    assert r.status_code == 201, r.text
    listed: list[dict[str, Any]] = unwrap((await api.get(f"/v1/pvs?pvName={prefix}:")).json())
    return sorted(listed, key=lambda p: p["setpointAddress"])


# --- heartbeat ---------------------------------------------------------------------------------------


async def test_heartbeat_envelope_is_exactly_timestamp_alive_age(client_for: Any) -> None:
    api = await client_for(api_envelope=True, roles=["api", "monitor"])
    r = await api.get("/v1/health/heartbeat", scope=None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["errorCode"] == 0 and body["errorMessage"] is None
    beat = body["payload"]
    assert set(beat) == {"timestamp", "alive", "age_seconds"}
    assert beat["alive"] is True  # an empty registry is alive: the monitor ticks regardless of PVs
    assert isinstance(beat["age_seconds"], float) and 0 <= beat["age_seconds"] < 5
    assert isinstance(beat["timestamp"], float)


async def test_quiet_monitor_keeps_ticking(client_for: Any) -> None:
    api = await client_for(roles=["api", "monitor"])
    await asyncio.sleep(2.5)  # no PV registered, so no update at all: only the tick can keep age low
    beat = (await api.get("/v1/health/heartbeat", scope=None)).json()
    assert set(beat) == {"status", "monitor_alive", "timestamp", "alive", "age_seconds"}
    assert beat["status"] == "ok" and beat["monitor_alive"] is True and beat["alive"] is True
    assert beat["age_seconds"] < 1.5, beat


async def test_heartbeat_without_monitor_is_not_alive(client_for: Any) -> None:
    api = await client_for(roles=["api"])
    beat = (await api.get("/v1/health/heartbeat", scope=None)).json()
    assert beat["alive"] is False and beat["monitor_alive"] is False and beat["age_seconds"] is None


async def test_heartbeat_envelope_without_monitor_is_not_alive(client_for: Any) -> None:
    gui = await client_for(api_envelope=True, roles=["api"])
    beat = (await gui.get("/v1/health/heartbeat", scope=None)).json()["payload"]
    assert beat["alive"] is False and beat["age_seconds"] is None


async def test_stopped_monitor_is_not_alive(client_for: Any) -> None:
    api = await client_for(roles=["api", "monitor"])
    ctx = api.client.app.state.ctx
    assert (await api.get("/v1/health/heartbeat", scope=None)).json()["alive"] is True
    await ctx.monitor.stop()  # the tick stops with the monitor
    await asyncio.sleep(1.2)
    beat = (await api.get("/v1/health/heartbeat", scope=None)).json()
    assert beat["alive"] is False and beat["monitor_alive"] is False


# --- EpicsValueDTO: numeric alarm status and severity -------------------------------------------------


async def _alarm_snapshot(api: Api) -> tuple[str, list[dict[str, Any]]]:
    pvs = await create_pvs(api, 2, prefix="ALM")
    cache = api.client.app.state.ctx.cache
    put_value(cache, pvs[0]["setpointAddress"], 7.5, units="mm", precision=2, status="HIHI", severity=2)
    put_value(cache, pvs[0]["readbackAddress"], 7.25, status="NO_ALARM", severity=0)
    put_value(cache, pvs[1]["setpointAddress"], 1.0, status="LOW", severity=1)
    put_value(cache, pvs[1]["readbackAddress"], 1.0, status="UDF", severity=3)
    r = await api.post("/v1/snapshots?async=false", json={"title": "alarms"})
    assert r.status_code == 201, r.text
    return unwrap(r.json())["id"], pvs


async def test_snapshot_values_carry_numeric_alarms_in_envelope_mode(client_for: Any) -> None:
    api = await client_for(api_envelope=True, roles=["api", "worker"])
    sid, pvs = await _alarm_snapshot(api)
    r = await api.get(f"/v1/snapshots/{sid}")
    assert r.status_code == 200
    rows = r.json()["payload"]["pvValues"]
    first, second = rows
    sp_age = first["setpointValue"].pop("ageSeconds")
    rb_age = first["readbackValue"].pop("ageSeconds")
    assert 0.4 < sp_age < 60 and 0.4 < rb_age < 60  # how old the cached values were when taken
    stamp = {"timestamp": "2023-11-14T22:13:20.123456Z", "timestampNs": 1_700_000_000_123_456_789}
    limits = {"upper_ctrl_limit": None, "lower_ctrl_limit": None, "enumIndex": None, "enum_strings": None}
    assert first == {
        "pvId": pvs[0]["id"],
        "pvName": "ALM:0:SP",
        "setpointName": "ALM:0:SP",
        "readbackName": "ALM:0:RB",
        "setpointValue": {
            "value": 7.5,
            "type": "double",
            "status": 3,  # HIHI
            "severity": 2,  # MAJOR
            "units": "mm",
            "precision": 2,
            "connected": True,
            **limits,
            **stamp,
        },
        "readbackValue": {
            "value": 7.25,
            "type": "double",
            "status": 0,  # NO_ALARM
            "severity": 0,
            "units": None,
            "precision": None,
            "connected": True,
            **limits,
            **stamp,
        },
        "status": 3,  # the row's alarm is the setpoint's
        "severity": 2,
        "timestamp": "2023-11-14T22:13:20.123456Z",
        "tags": [],
        "absTolerance": 0.0,  # the PV's tolerances (what compare applies), added after the dialect
        "relTolerance": 0.0,
    }
    assert (second["status"], second["severity"]) == (6, 1)  # LOW, MINOR
    assert (second["readbackValue"]["status"], second["readbackValue"]["severity"]) == (17, 3)  # UDF, INVALID
    # A page of the same snapshot is rewritten too.
    page = (await api.get(f"/v1/snapshots/{sid}?limit=1&offset=1")).json()["payload"]["pvValues"]
    assert [(v["status"], v["setpointValue"]["status"]) for v in page] == [(6, 6)]


async def test_snapshot_values_keep_alarm_names_outside_envelope_mode(client_for: Any) -> None:
    api = await client_for(roles=["api", "worker"])
    sid, _ = await _alarm_snapshot(api)
    first = (await api.get(f"/v1/snapshots/{sid}")).json()["pvValues"][0]
    assert (first["status"], first["severity"]) == ("HIHI", 2)
    assert first["setpointValue"]["status"] == "HIHI" and first["readbackValue"]["status"] == "NO_ALARM"


# --- jobs ---------------------------------------------------------------------------------------------


async def _cancelled_job(api: Api) -> str:
    await create_pvs(api, 1, prefix="JOB")
    r = await api.post("/v1/snapshots", json={"title": "never runs"})  # no worker role: stays pending
    assert r.status_code == 202, r.text
    job_id: str = unwrap(r.json())["jobId"]
    assert (await api.delete(f"/v1/jobs/{job_id}")).status_code == 200
    return job_id


async def test_cancelled_job_reads_as_failed_in_envelope_mode(client_for: Any) -> None:
    api = await client_for(api_envelope=True, roles=["api"])
    job_id = await _cancelled_job(api)
    job = (await api.get(f"/v1/jobs/{job_id}")).json()["payload"]
    assert job["status"] == "failed" and job["error"] == "cancelled"
    listed = (await api.get("/v1/jobs")).json()["payload"]
    assert [(j["id"], j["status"], j["error"]) for j in listed] == [(job_id, "failed", "cancelled")]


async def test_cancelled_job_stays_cancelled_outside_envelope_mode(client_for: Any) -> None:
    api = await client_for(roles=["api"])
    job_id = await _cancelled_job(api)
    job = (await api.get(f"/v1/jobs/{job_id}")).json()
    assert job["status"] == "cancelled"


# --- errors -------------------------------------------------------------------------------------------


async def test_envelope_errors_are_application_json(client_for: Any) -> None:
    api = await client_for(api_envelope=True)
    for r in (
        await api.get("/v1/api-keys/count", scope="read"),  # 403 from the guard
        await api.get("/v1/snapshots/not-a-uuid"),  # 404 from a handler
        await api.get("/v1/nothing-here"),  # 404 from routing
    ):
        assert r.status_code in (403, 404)
        assert r.headers["content-type"] == "application/json", r.headers["content-type"]
        assert r.json()["errorCode"] == r.status_code and r.json()["payload"] is None


async def test_plain_errors_stay_problem_json(client_for: Any) -> None:
    plain = await client_for()
    r = await plain.get("/v1/api-keys/count", scope="read")
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_pva_snapshot_values_carry_numeric_pva_alarms_in_envelope_mode(client_for: Any) -> None:
    """PVA statuses (pvData AlarmStatus names) go out as their codes, as CA's do: NONE 0, DRIVER 2, CLIENT 7."""
    api = await client_for(api_envelope=True, roles=["api", "worker"])
    r = await api.post("/v1/pvs", json={"setpointAddress": "pva://PALM:SP", "readbackAddress": "pva://PALM:RB"})
    assert r.status_code == 201, r.text
    cache = api.client.app.state.ctx.cache
    put_value(cache, "pva://PALM:SP", 1.5, status="DRIVER", severity=2, alarm_message="link down")
    put_value(cache, "pva://PALM:RB", 1.0, status="NONE", severity=0)
    r = await api.post("/v1/snapshots?async=false", json={"title": "pva alarms"})
    assert r.status_code == 201, r.text
    [row] = (await api.get(f"/v1/snapshots/{unwrap(r.json())['id']}")).json()["payload"]["pvValues"]
    assert (row["status"], row["severity"]) == (2, 2)
    sp, rb = row["setpointValue"], row["readbackValue"]
    assert (sp["status"], sp["severity"], sp["alarmMessage"]) == (2, 2, "link down")
    assert (rb["status"], rb["severity"]) == (0, 0) and "alarmMessage" not in rb
    put_value(cache, "pva://PALM:SP", 1.5, status="CLIENT", severity=3)
    r = await api.post("/v1/snapshots?async=false", json={"title": "pva client alarm"})
    [row] = (await api.get(f"/v1/snapshots/{unwrap(r.json())['id']}")).json()["payload"]["pvValues"]
    assert row["setpointValue"]["status"] == 7
