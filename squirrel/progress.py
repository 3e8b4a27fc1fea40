"""A tiny terminal progress bar for CLI commands (stderr; one redrawn line on a TTY, plain lines otherwise)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`Progress(total, "bench")`, then `.step("snapshot from cache")` per unit of work and `.close()`."""

    def __init__(self, total: int, title: str = "", stream: TextIO | None = None, width: int = 28) -> None:
        self.total = max(1, total)
        self.title = title
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self.label = ""
        self.started = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._closed = False

    def step(self, label: str = "", n: int = 1) -> None:
        """Count `n` units done and show `label` as the work now under way."""
        self.done = min(self.total, self.done + n)
        self.set(label)

    def set(self, label: str) -> None:
        """Show `label` without counting progress (a new phase started)."""
        self.label = label
        self._draw()

    def _draw(self) -> None:
        if self._closed:
            return
        frac = self.done / self.total
        elapsed = time.monotonic() - self.started
        if self.tty:
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"{self.title} [{bar}] {frac * 100:3.0f}% {elapsed:5.0f}s {self.label}"
            self.stream.write("\r\x1b[2K" + line[:160])
        else:
            self.stream.write(f"{self.title} {frac * 100:3.0f}% {elapsed:5.0f}s {self.label}\n")
        self.stream.flush()

    def close(self) -> None:
        if self._closed:
            return
        self.done = self.total
        self._draw()
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self._closed = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
