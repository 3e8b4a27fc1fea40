"""The operator verbs (`squirrel snapshot|pvs|tags|jobs|health`) against a real `squirrel serve` and a caproto IOC.

Each verb runs as its own process, in table and in --json output; the tests assert on the JSON, on what
reaches stdout and stderr, and on every exit code (0, 1, 2, 3, 130). Tests run in file order and share
one server: the registry is imported first, the IOC is stopped last.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from caproto.sync.client import read as ca_read
from caproto.sync.client import write as ca_write

from squirrel.tools.sim import SimHandle
from tests.support.ops import (
    GHOST,
    PREFIX,
    REGISTRY_CSV,
    Result,
    Server,
    ops_fixtures,
)

pytestmark = pytest.mark.timeout(600)
SP0 = f"{PREFIX}00:P00000:SP"
LINAC = ("--tag", "Area=LINAC")


ioc, slow_ioc, server = ops_fixtures()


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What earlier tests made (snapshot ids) for later ones."""
    return {}


def ok(result: Result, code: int = 0) -> Result:
    assert result.code == code, str(result)
    return result


def take_linac(server: Server, title: str) -> str:
    doc = ok(server.cli("snapshot", "take", "--title", title, *LINAC, "--direct", "--json")).json()
    return str(doc["snapshot"]["id"])


def test_registry_import_list_search_export_and_tags(server: Server, tmp_path: Path) -> None:
    csv = tmp_path / "pvs.csv"
    csv.write_text(REGISTRY_CSV)
    imported = ok(server.cli("pvs", "import", str(csv), "--json")).json()
    assert imported["createdCount"] == 5 and imported["groupsCreated"] == 2

    listed = ok(server.cli("pvs", "list", "--json")).json()
    assert listed["totalCount"] == 5
    assert {p["setpointAddress"] for p in listed["results"]} >= {SP0, GHOST}
    table = ok(server.cli("pvs", "list"))
    assert SP0 in table.stdout and "Area=LINAC" in table.stdout and "5 of 5 PVs" in table.stderr

    linac = ok(server.cli("pvs", "list", *LINAC, "--json")).json()
    assert linac["totalCount"] == 3
    found = ok(server.cli("pvs", "search", "P0000", "--tag", "RING", "--json")).json()
    assert [p["setpointAddress"] for p in found["results"]] == [f"{PREFIX}00:P00001:SP"]
    assert "enum pair" in ok(server.cli("pvs", "search", "P00001")).stdout

    exported = ok(server.cli("pvs", "export", "--format", "csv"))
    assert exported.stdout.splitlines()[0].startswith("Setpoint,Readback") and GHOST in exported.stdout

    groups = ok(server.cli("tags", "list", "--json")).json()
    assert {g["name"]: sorted(t["name"] for t in g["tags"]) for g in groups} == {
        "Area": ["LINAC", "RING"],
        "Section": ["LINAC"],
    }
    assert "--tag Section=LINAC" in ok(server.cli("tags", "list")).stdout

    again = server.cli("pvs", "import", str(csv), "--json")  # every setpoint exists: 409
    assert again.code == 2 and "HTTP 409" in again.stderr and again.stdout == ""


def test_tag_names_are_resolved_and_ambiguity_is_a_usage_error(server: Server) -> None:
    ambiguous = server.cli("pvs", "list", "--tag", "LINAC", "--json")
    assert ambiguous.code == 2 and ambiguous.stdout == ""
    assert "Area=LINAC" in ambiguous.stderr and "Section=LINAC" in ambiguous.stderr
    unknown = server.cli("snapshot", "take", "--tag", "Nowhere")
    assert unknown.code == 2 and "no tag 'Nowhere'" in unknown.stderr
    assert ok(server.cli("pvs", "list", "--tag", "section=linac", "--json")).json()["totalCount"] == 1


def test_snapshot_take_reports_missing_pvs_and_require_complete(server: Server, state: dict[str, Any]) -> None:
    doc = ok(server.cli("snapshot", "take", "--title", "linac", *LINAC, "--direct", "--require-complete", "--json"))
    body = doc.json()
    assert body["job"]["status"] == "completed" and body["snapshot"]["pvCount"] == 3
    assert body["snapshot"]["missingCount"] == 0 and body["missing"] == []
    state["linac"] = str(body["snapshot"]["id"])

    table = ok(server.cli("snapshot", "take", "--title", "everything", "--direct"))
    assert "everything" in table.stdout and GHOST in table.stdout  # the summary lists the missing PV
    assert "queued" in table.stderr and "queued" not in table.stdout

    strict = server.cli("snapshot", "take", "--title", "strict", "--direct", "--require-complete", "--json")
    assert strict.code == 1, str(strict)
    strict_doc = strict.json()
    if strict_doc["job"]["status"] == "completed":  # a server that stores it anyway: the CLI still says 1
        assert [m["pvName"] for m in strict_doc["missing"]] == [GHOST]
    else:  # a server that refuses incomplete snapshots
        assert strict_doc["job"]["status"] == "failed"


def test_snapshot_list_show_label(server: Server, state: dict[str, Any]) -> None:
    snaps = ok(server.cli("snapshot", "list", "--json")).json()
    titles = [s["title"] for s in snaps]
    assert "linac" in titles and "everything" in titles
    everything = next(s["id"] for s in snaps if s["title"] == "everything")
    assert "linac" in ok(server.cli("snapshot", "list", "--title", "lin")).stdout

    labelled = ok(server.cli("snapshot", "label", state["linac"], "golden", "--json")).json()
    assert labelled["labels"] == ["golden"]
    golden = ok(server.cli("snapshot", "list", "--label", "golden", "--json")).json()
    assert [s["id"] for s in golden] == [state["linac"]]
    refused = server.cli("snapshot", "label", everything, "golden", key="read")
    assert refused.code == 3 and "HTTP 403" in refused.stderr

    shown = ok(server.cli("snapshot", "show", "golden", "--json")).json()
    assert shown["id"] == state["linac"] and len(shown["pvValues"]) == 3
    missing = ok(server.cli("snapshot", "show", everything, "--only-missing", "--json")).json()
    assert [pv["pvName"] for pv in missing["pvValues"]] == [GHOST]
    table = ok(server.cli("snapshot", "show", everything, "--only-missing"))
    assert GHOST in table.stdout and SP0 not in table.stdout and "(disconnected)" in table.stdout

    unknown = server.cli("snapshot", "show", "00000000-0000-4000-8000-000000000000")
    assert unknown.code == 2 and "HTTP 404" in unknown.stderr
    assert server.cli("snapshot", "show", "yesterday").code == 2


def test_snapshot_export_import(server: Server, state: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "linac.json"
    ok(server.cli("snapshot", "export", state["linac"], "-o", str(out)))
    held = server.cli("snapshot", "import", str(out))  # the export of a snapshot that still exists
    assert held.code == 2 and "HTTP 409" in held.stderr and state["linac"] in held.stderr, str(held)
    doc = json.loads(out.read_text())
    del doc["snapshot"]["id"]  # a deliberate copy: no source id, and a title of its own
    out.write_text(json.dumps(doc))
    imported = ok(server.cli("snapshot", "import", str(out), "--title", "linac copy", "--json")).json()
    assert imported["title"] == "linac copy" and imported["pvCount"] == 3 and imported["source"] == "import"
    csv = ok(server.cli("snapshot", "export", state["linac"], "--format", "csv"))
    assert SP0 in csv.stdout
    everything = next(s["id"] for s in server.cli("snapshot", "list", "--json").json() if s["title"] == "everything")
    out = tmp_path / "everything.csv"
    ok(server.cli("snapshot", "export", everything, "--format", "csv", "-o", str(out)))
    table = ok(server.cli("snapshot", "import", str(out), "--title", "everything (csv)"))
    assert "everything (csv)" in table.stdout and "import" in table.stdout
    copy = next(s["id"] for s in server.cli("snapshot", "list", "--json").json() if s["title"] == "everything (csv)")
    assert copy != everything  # newest first: the imported copy
    labelled = ok(server.cli("snapshot", "label", copy, "archived", "copy"))
    assert "archived, copy" in labelled.stdout
    assert ok(server.cli("snapshot", "label", copy, "--remove", "copy", "--json")).json()["labels"] == ["archived"]

    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a snapshot"}')
    refused = server.cli("snapshot", "import", str(bad))
    assert refused.code == 2 and "HTTP 400" in refused.stderr


def _live_difference(server: Server, snapshot_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        result = server.cli("snapshot", "compare", snapshot_id, "live", "--json", "--fail-on-diff")
        diffs = [d for d in result.json()["differences"] if d["pvName"] == SP0]
        if diffs:
            assert result.code == 1, str(result)
            return diffs[0]
        assert time.monotonic() < deadline, f"the change never showed in compare live:\n{result}"
        time.sleep(0.5)


def test_compare_then_restore_brings_the_ioc_back(server: Server, state: dict[str, Any]) -> None:
    sid = state["linac"]
    original = float(ca_read(SP0, repeater=False).data[0])
    ca_write(SP0, original + 42.5, notify=True, repeater=False)

    diff = _live_difference(server, sid)
    assert diff["delta"] == pytest.approx(42.5) and diff["value2"] == pytest.approx(original + 42.5)
    assert diff["side"] == "setpoint"
    table = server.cli("snapshot", "compare", sid, "live", "--side", "setpoint")
    assert table.code == 0 and SP0 in table.stdout and "+42.5" in table.stdout
    same = ok(server.cli("snapshot", "compare", sid, "golden", "--fail-on-diff", "--json")).json()
    assert same["differenceCount"] == 0

    restored = ok(server.cli("snapshot", "restore", sid, *LINAC, "--yes", "--json")).json()
    assert restored["job"]["status"] == "completed"
    assert restored["result"]["failureCount"] == 0 and restored["result"]["successCount"] == 3
    assert restored["result"]["backupSnapshotId"]
    assert float(ca_read(SP0, repeater=False).data[0]) == pytest.approx(original)
    state["backup"] = restored["result"]["backupSnapshotId"]

    ca_write(SP0, original - 1.0, notify=True, repeater=False)
    table = ok(server.cli("snapshot", "restore", sid, "--tag", "Area=LINAC", "--yes"))
    assert SP0 in table.stdout and "written" in table.stdout
    assert "undo: squirrel snapshot restore " in table.stderr and "plan for snapshot" in table.stderr
    assert float(ca_read(SP0, repeater=False).data[0]) == pytest.approx(original)


def test_restore_asks_first(server: Server, state: dict[str, Any]) -> None:
    declined = server.cli("snapshot", "restore", state["linac"], *LINAC, input="n\n")
    assert declined.code == 1 and "[y/N]" in declined.stderr and "restore not started" in declined.stderr
    assert declined.stdout == ""

    proc = server.popen("snapshot", "restore", state["linac"], *LINAC)
    seen = _read_until(proc, "[y/N]")
    proc.send_signal(signal.SIGINT)  # Ctrl-C at the question
    assert proc.wait(60) == 130, seen
    assert proc.stdout is not None and proc.stdout.read() == ""


def _read_until(proc: Any, marker: str, timeout: float = 60) -> str:
    """stderr of `proc` up to `marker` (the question has no line end, so read what arrives)."""
    buf: list[str] = []
    done = threading.Event()

    def pump() -> None:
        while not done.is_set():
            ch = proc.stderr.read(1)
            if not ch:
                break
            buf.append(ch)
            if "".join(buf[-len(marker) :]) == marker:
                done.set()
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    done.wait(timeout)
    text = "".join(buf)
    assert text.endswith(marker), text
    return text


def test_ctrl_c_during_restore_offers_to_cancel_it(server: Server, tmp_path: Path) -> None:
    csv = tmp_path / "slow.csv"
    csv.write_text("Setpoint,Readback,Device,Description,Area\nOPSR:slow,,SLOW,2 s put,SLOW\n")
    assert "1 " in ok(server.cli("pvs", "import", str(csv))).stdout  # the table: 1 PV created
    sid = ok(server.cli("snapshot", "take", "--tag", "Area=SLOW", "--direct", "--json")).json()["snapshot"]["id"]

    proc = server.popen("snapshot", "restore", sid, "--tag", "SLOW", "--yes", "--json")
    _read_until(proc, "queued\n")
    proc.send_signal(signal.SIGINT)  # Ctrl-C while the 2 s put is in flight
    _read_until(proc, "[y/N] ")
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("y\n")
    proc.stdin.flush()
    assert proc.wait(60) == 1
    body = json.loads(proc.stdout.read())
    assert body["job"]["status"] == "cancelled"
    jobs = ok(server.cli("jobs", "list", "--status", "cancelled", "--json")).json()
    assert [j["id"] for j in jobs] == [body["job"]["id"]]
    watched = server.cli("jobs", "watch", body["job"]["id"])
    assert watched.code == 1 and "cancelled" in watched.stdout

    # The same restore cancelled from another shell: `jobs cancel` answers the job, the restore ends with 1.
    proc = server.popen("snapshot", "restore", sid, "--tag", "SLOW", "--yes", "--json")
    job_id = _read_until(proc, "queued\n").split("restore job ", 1)[1].split()[0]
    cancelled = ok(server.cli("jobs", "cancel", job_id, "--json")).json()
    assert cancelled["id"] == job_id and cancelled["status"] == "cancelled"
    assert proc.wait(60) == 1
    assert proc.stdout is not None and json.loads(proc.stdout.read())["job"]["status"] == "cancelled"


def test_readme_client_example_runs(server: Server) -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    code = readme.split("<!-- example: client -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 10
    env = server.cli_env("admin")  # it takes a snapshot: write scope
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    # golden holds the LINAC pairs; the new snapshot all PVs, so the others differ as missing on one side
    assert GHOST in run.stdout and "missing" in run.stdout and "setpoint" in run.stdout
    assert run.stdout.strip().splitlines()[-1].endswith("PVs match")


def test_jobs_list_watch_cancel(server: Server) -> None:
    jobs = ok(server.cli("jobs", "list", "--json")).json()
    assert {j["type"] for j in jobs} == {"snapshot_create", "snapshot_restore"}
    done = next(j for j in jobs if j["status"] == "completed")
    watched = ok(server.cli("jobs", "watch", done["id"], "--json")).json()
    assert watched["id"] == done["id"] and watched["status"] == "completed"
    assert "snapshot_restore" in ok(server.cli("jobs", "list", "--type", "snapshot_restore")).stdout
    finished = server.cli("jobs", "cancel", done["id"])
    assert finished.code == 2 and "HTTP 409" in finished.stderr


def test_health(server: Server) -> None:
    doc = ok(server.cli("health", "--json")).json()
    assert doc["ready"]["ready"] is True and "summary" in doc
    assert "ready" in ok(server.cli("health")).stdout


def test_connection_and_key_errors(server: Server, tmp_path: Path) -> None:
    closed = server.cli("health", "--url", "http://127.0.0.1:9")
    assert closed.code == 3 and "cannot reach" in closed.stderr
    wrong = server.cli("snapshot", "list", key=None, SQUIRREL_API_KEY="sq_not_a_key")
    assert wrong.code == 3 and "HTTP 401" in wrong.stderr

    key_file = tmp_path / "key"
    key_file.write_text(server.tokens["read"] + "\n")
    key_file.chmod(0o644)
    loose = server.cli("snapshot", "list", "--key-file", str(key_file), key=None)
    assert loose.code == 2 and "chmod 600" in loose.stderr
    key_file.chmod(0o600)
    assert ok(server.cli("snapshot", "list", "--key-file", str(key_file), "--json", key=None)).json()
    assert server.cli("snapshot", "list", "--url", "ftp://x").code == 2


def test_restore_with_the_ioc_stopped_fails_and_lists_failures(
    server: Server, ioc: SimHandle, state: dict[str, Any]
) -> None:
    ioc.iocs[0].stop()
    try:
        result = server.cli("snapshot", "restore", state["linac"], *LINAC, "--yes", "--json")
        assert result.code == 1, str(result)
        body = result.json()
        assert body["result"]["failureCount"] == 3
        assert {i["outcome"] for i in body["result"]["items"]} <= {"disconnected", "timeout", "failed"}
        table = server.cli("snapshot", "restore", state["linac"], *LINAC, "--yes")
        assert table.code == 1 and SP0 in table.stdout and "disconnected" in table.stdout
        assert "restore " in table.stderr
    finally:
        ioc.iocs[0].start()


def test_existing_commands_still_work() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUIRREL_")}
    shown = subprocess.run(
        [sys.executable, "-m", "squirrel", "check-config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0 and '"port": 8080' in shown.stdout
