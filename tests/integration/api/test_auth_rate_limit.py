"""Failed key attempts are counted in /metrics and limited per client address (429 + Retry-After)."""

from __future__ import annotations

import asyncio
import re

from tests.conftest import Api

BAD = {"X-API-Key": "sq_this_key_was_never_issued_0000"}


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


async def test_failed_attempts_are_limited_counted_and_never_block_good_keys(api: Api) -> None:
    responses = []
    for _ in range(10):  # 60 at once is more than a burst of 50; more rounds only for a very slow machine
        responses += await asyncio.gather(*(api.client.get("/v1/pvs", headers=BAD) for _ in range(60)))
        if any(r.status_code == 429 for r in responses):
            break
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) >= 50  # the burst
    limited = [r for r in responses if r.status_code == 429]
    assert limited, statuses
    for r in limited:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["retry-after"]) >= 1
        body = r.json()
        assert body["status"] == 429 and "failed API-key attempts" in body["detail"]
        assert body["retryAfter"] == int(r.headers["retry-after"])

    # The same address with a good key (header or cookie) is never limited.
    assert (await api.get("/v1/pvs", scope="read")).status_code == 200
    r = await api.client.get("/v1/pvs", headers={"Cookie": f"squirrel_key={api.tokens['read']}"})
    assert r.status_code == 200
    # No key at all is not a failed attempt: 401 as usual.
    assert (await api.get("/v1/pvs", scope=None)).status_code == 401

    text = (await api.client.get("/metrics")).text
    assert metric(text, "squirrel_auth_failures_total") == len(responses)
    assert metric(text, "squirrel_auth_rate_limited_total") == len(limited)

    # After Retry-After the address may fail again (and gets a plain 401).
    await asyncio.sleep(max(int(r.headers["retry-after"]) for r in limited))
    assert (await api.client.get("/v1/pvs", headers=BAD)).status_code == 401
    text = (await api.client.get("/metrics")).text
    assert metric(text, "squirrel_auth_failures_total") == len(responses) + 1
