"""Schemathesis over the served OpenAPI document, against a dedicated `squirrel serve`.

    python tests/contract/run_schemathesis.py --max-examples 100      # the long run (README)
    python tests/contract/run_schemathesis.py --max-examples 3 --phases examples,coverage,fuzzing

The instance is a real process: embedded PostgreSQL in a temporary data folder, its own port, Channel
Access pointed at an unused loopback port (no IOC answers, so nothing outside is ever written), and
an admin key created with `squirrel keys create`. Every operation is tested except the endless SSE
streams (a response that never ends cannot be checked) and key revocation (it would revoke the run's
own key). Exit status: schemathesis's (non-zero on any failure), or 2 when the instance fails to start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED_PATHS = ("/v1/live/events", "/v1/jobs/{job_id}/events")  # endless SSE streams
EXCLUDED_OPERATION_IDS = ("V1ApiKeysKeyIdRevokeKey",)  # DELETE /v1/api-keys/{id}: would revoke our own key
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unused_udp_port() -> int:
    """A loopback UDP port nobody listens on: CA searches sent there find nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def instance_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQUIRREL_", "EPICS_"))}
    env.update(
        {
            "SQUIRREL_DATA_DIR": str(data_dir),
            "SQUIRREL_LOG_JSON": "true",
            "SQUIRREL_API_ENVELOPE": "false",
            "EPICS_CA_AUTO_ADDR_LIST": "NO",
            "EPICS_CA_ADDR_LIST": f"127.0.0.1:{unused_udp_port()}",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        }
    )
    return env


def _squirrel(*args: str) -> list[str]:
    return [sys.executable, "-m", "squirrel", *args]


def _wait_ready(server: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"squirrel serve exited with {server.returncode}; see {log_path}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"squirrel serve was not ready within {START_TIMEOUT:.0f} s; see {log_path}")


@contextmanager
def squirrel_instance(work_dir: Path) -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of a fresh, seeded `squirrel serve` (its seeds in work_dir/schemathesis.toml),
    stopped (SIGTERM, then SIGKILL) on exit."""
    data_dir = work_dir / "data"
    env = instance_env(data_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work_dir / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(_squirrel("serve", "--port", str(port)), env=env, stdout=log, stderr=log)
        try:
            _wait_ready(server, url, log_path)
            created = subprocess.run(
                _squirrel("keys", "create", "schemathesis-admin", "--scopes", "admin"),
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            token = created.stdout.strip().splitlines()[-1]
            write_config(work_dir / "schemathesis.toml", seed(url, token))
            yield url, token
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


Seeds = dict[str, list[str]]  # path parameter name -> ids of seeded resources


def seed(url: str, token: str) -> Seeds:
    """A few real resources (tag group and tag, PVs, snapshots, a job, a schedule) whose ids the run
    draws half of the time for the path parameters (the other half stays generated: the 404s), so the
    operations on existing resources are tested in every phase, not only by the stateful one."""
    with httpx.Client(base_url=url, headers={"X-API-Key": token}, timeout=60) as client:

        def call(method: str, path: str, body: object = None, **params: str) -> Any:
            r = client.request(method, path, json=body, params=params)
            if r.status_code >= 300:
                raise RuntimeError(f"seeding {method} {path}: {r.status_code} {r.text[:300]}")
            return r.json()

        group = call("POST", "/v1/tags", {"name": "contract-area", "description": "seeded"})
        tagged = call("POST", f"/v1/tags/{group['id']}/tags", {"name": "contract-tag"})["group"]
        tag_ids = [t["id"] for t in tagged["tags"]]
        pv_ids = [
            call("POST", "/v1/pvs", {"setpointAddress": f"CONTRACT:PV{i}:SET", "readbackAddress": f"CONTRACT:PV{i}",
                                     "device": "contract", "tags": tag_ids})["id"]
            for i in range(3)
        ]  # fmt: skip
        snapshots = [
            call("POST", "/v1/snapshots", {"title": title, "labels": ["seed"]}, **{"async": "false"})["id"]
            for title in ("contract seed A", "contract seed B")
        ]
        job = call("POST", "/v1/snapshots", {"title": "contract seed job", "pvIds": pv_ids[:1]})["jobId"]
        schedule = call("POST", "/v1/schedules", {"name": "contract-nightly", "cron": "0 3 * * *", "title": "nightly",
                                                  "tags": tag_ids})["id"]  # fmt: skip
    return {
        "snapshot_id": snapshots,
        "second_id": snapshots,
        "pv_id": pv_ids,
        "group_id": [group["id"]],
        "tag_id": tag_ids,
        "job_id": [job],
        "schedule_id": [schedule],
    }


def write_config(path: Path, seeds: Seeds) -> None:
    """schemathesis.toml: seeded ids drawn with probability 0.5 by every operation but the deletes (a
    deleted seed would leave the later operations only 404s)."""
    lines = []
    for name, ids in seeds.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(ids)}", ""]
    lines += ["[[operations]]", 'include-method-regex = "^(GET|PUT|POST)$"', "[operations.parameters]"]
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in seeds]
    path.write_text("\n".join(lines) + "\n")


def schemathesis_command(url: str, token: str, args: argparse.Namespace, work_dir: Path) -> list[str]:
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    cmd = [
        exe,
        "--config-file",
        str(work_dir / "schemathesis.toml"),
        "run",
        f"{url}/schema/openapi.json",
        "--header",
        f"X-API-Key: {token}",
        "--checks",
        args.checks,
        "--max-examples",
        str(args.max_examples),
        "--workers",
        str(args.workers),
        "--seed",
        str(args.seed),
        "--phases",
        args.phases,
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "ndjson",
        "--report-dir",
        str(work_dir / "report"),
        "--output-truncate",
        "true",
    ]
    if args.exclude_checks:
        cmd += ["--exclude-checks", args.exclude_checks]
    for path in EXCLUDED_PATHS:
        cmd += ["--exclude-path", path]
    for operation_id in EXCLUDED_OPERATION_IDS:
        cmd += ["--exclude-operation-id", operation_id]
    return cmd + list(args.extra)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=25, help="cases per operation and phase")
    parser.add_argument("--checks", default="all")
    parser.add_argument(
        "--exclude-checks",
        default="positive_data_acceptance",
        help="'' to run every check (positive_data_acceptance also flags correct 409s on state conflicts)",
    )
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    # One worker: with several, hypothesis parses lambda sources (ast) in parallel threads, which CPython 3.11
    # can fail with "AST constructor recursion depth mismatch" (a runtime error of the tool, not of the API).
    parser.add_argument("--workers", default="1")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data, serve.log, report)")
    parser.add_argument("extra", nargs="*", help="more schemathesis arguments (after --)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="squirrel-contract-"))
    try:
        try:
            instance = squirrel_instance(work_dir)
            url, token = instance.__enter__()
        except (RuntimeError, subprocess.SubprocessError, httpx.HTTPError) as exc:
            print(f"could not start the instance: {exc}", file=sys.stderr)
            log = work_dir / "serve.log"
            if log.exists():
                sys.stderr.write(log.read_text(errors="replace")[-4000:])
            return 2
        try:
            cmd = schemathesis_command(url, token, args, work_dir)
            # Its own folder as working directory: schemathesis keeps state in ./.schemathesis.
            return subprocess.run(cmd, check=False, cwd=work_dir).returncode
        finally:
            instance.__exit__(None, None, None)
    finally:
        if args.keep:
            print(f"kept {work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
