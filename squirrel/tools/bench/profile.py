"""`squirrel bench --profile DIR`: sample the service with py-spy during each phase, summarise the top frames.

py-spy (`pip install 'squirrel[profile]'`) attaches to the running `squirrel serve` subprocess from outside,
so the service runs unmodified. Each phase gets one collapsed-stack file (`<phase>.txt`, the format
flamegraph tools read); a phase that restarts the service (monitor) gets one file per process. The report
carries, per phase, the frames with the most samples on top of the stack (self) and anywhere in it (total).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TOP = 12  # frames per list in the report
# Frames on (nearly) every stack of the service, which say nothing about a phase: left out of "total".
PLUMBING = (
    "thread (",
    "<module> (squirrel/__main__.py)",
    "main (squirrel/cli/main.py)",
    "cmd_serve (squirrel/cli/main.py)",
    "Server.run (uvicorn/server.py)",
    "asyncio_run (uvicorn/_compat.py)",
    "Runner.run (stdlib/asyncio/runners.py)",
    "Thread._bootstrap",
    "Thread.run (stdlib/threading.py)",
)
_SAMPLE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")


def py_spy() -> str:
    """The py-spy executable, or a clear error naming the extra that installs it."""
    exe = shutil.which("py-spy")
    if exe is None:
        raise SystemExit("squirrel bench --profile needs py-spy: pip install 'squirrel[profile]'")
    return exe


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-").lower() or "phase"


@dataclass
class PhaseProfiler:
    """One py-spy recorder per service process while a phase runs."""

    folder: Path
    rate: int = 200  # samples per second
    _label: str | None = None
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _files: list[Path] = field(default_factory=list)

    def begin(self, label: str, pid: int | None) -> None:
        self._label = label
        if pid is not None:
            self.attach(pid)

    def attach(self, pid: int) -> None:
        """Record `pid` for the current phase (also called when the phase restarts the service)."""
        if self._label is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        out = self.folder / f"{_slug(self._label)}-{len(self._files) + 1}.txt"
        cmd = [py_spy(), "record", "--pid", str(pid), "--rate", str(self.rate), "--format", "raw"]
        cmd += ["--output", str(out), "--nonblocking", "--threads"]
        self._procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._files.append(out)

    def end(self) -> dict[str, object] | None:
        """Stop the recorders (py-spy writes its file on SIGINT); the phase's summary, None when none ran."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self._procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        files = [f for f in self._files if f.exists()]
        self._procs, self._files, self._label = [], [], None
        return summarise(files) if files else None


def summarise(files: list[Path], top: int = TOP) -> dict[str, object]:
    """Samples, and the top frames by self and by total samples, over collapsed-stack files."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            match = _SAMPLE.match(line)
            if match is None:
                continue
            count = int(match["count"])
            frames = [_short(f) for f in match["stack"].split(";")]
            samples += count
            own[frames[-1]] += count
            for frame in set(frames):
                if not frame.startswith(PLUMBING) and "<frozen" not in frame:
                    total[frame] += count

    def share(counter: Counter[str]) -> list[list[object]]:
        return [[frame, round(100.0 * n / samples, 1)] for frame, n in counter.most_common(top)] if samples else []

    return {"samples": samples, "files": [str(f) for f in files], "self_pct": share(own), "total_pct": share(total)}


def _short(frame: str) -> str:
    """`func (/venv/.../site-packages/psycopg/x.py:42)` → `func (psycopg/x.py)`: one entry per function."""
    name, _, where = frame.partition(" (")
    if not where:
        return frame
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker, keep in (("/site-packages/", ""), ("/lib/python3.", "stdlib/"), ("/squirrel/", "squirrel/")):
        at = path.find(marker)
        if at >= 0:
            rest = path[at + len(marker) :]
            path = keep + (rest.split("/", 1)[-1] if keep == "stdlib/" else rest)
            break
    return f"{name} ({path})"
