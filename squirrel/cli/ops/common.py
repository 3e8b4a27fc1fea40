"""What every operator verb shares: connection flags, output (data on stdout, the rest on stderr), exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console

from squirrel.client import ApiError, Client, ConfigurationError

# Exit codes (documented in the README, "Daily use").
OK = 0
INCOMPLETE = 1  # ran, but not completely: missing values with --require-complete, restore failures, cancelled
USAGE = 2  # usage or configuration error, or the server refused the request (400, 404, 409, 413, ...)
UNREACHABLE = 3  # no answer, unauthorised (401, 403), unavailable (503) or another server error
INTERRUPTED = 130

Handler = Callable[["Ops"], int]


class UsageError(Exception):
    """A mistake on the command line the parser cannot see (e.g. an ambiguous tag name)."""


def exit_code_for(error: ApiError) -> int:
    if error.status in (0, 401, 403, 429) or error.status >= 500:
        return UNREACHABLE
    return USAGE


@dataclass
class Ops:
    """One verb's run: its arguments, the client, and where things are written."""

    args: argparse.Namespace
    out: Console
    err: Console
    _client: Client | None = field(default=None, repr=False)

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def client(self) -> Client:
        if self._client is None:
            a = self.args
            # Waiting for jobs is done by streaming; single requests get a generous but bounded timeout.
            self._client = Client(a.url, key_file=a.key_file, timeout=a.timeout)
        return self._client

    def emit(self, document: Any, render: Callable[[], None]) -> None:
        """The verb's result: one JSON document with --json, else `render()` draws it for people."""
        if self.json:
            # msgspec writes non-finite floats as null, never as the invalid bare NaN/Infinity.
            sys.stdout.write(msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n")
            sys.stdout.flush()
        else:
            render()

    def save(self, text: str, output: str | None) -> None:
        """A file's text to `output` (said on stderr), or to stdout when `output` is None or '-'."""
        if output and output != "-":
            Path(output).write_text(text, encoding="utf-8")
            self.note(f"wrote {output}")
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")

    def note(self, text: str) -> None:
        """A message for the operator (stderr, never mixed with data)."""
        self.err.print(text, highlight=False)

    def ask(self, question: str) -> bool:
        """A yes/no question on stderr, answered on stdin; end of input means no."""
        self.err.print(f"{question} [y/N] ", end="", highlight=False)
        line = sys.stdin.readline()
        return line.strip().lower() in ("y", "yes")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def consoles() -> tuple[Console, Console]:
    # A pipe gets wide lines (tables are data there), a terminal its own width.
    # No markup, emoji codes or highlighting: PV names like OPS:GHOST:SP or A[1] are data, not markup.
    plain: dict[str, Any] = {"markup": False, "emoji": False, "highlight": False}
    out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200, **plain)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 200, **plain)
    return out, err


def runner(handler: Handler) -> Callable[[argparse.Namespace], int]:
    """The function argparse dispatches to: runs the verb and turns every failure into its exit code."""

    def run(args: argparse.Namespace) -> int:
        out, err = consoles()
        ops = Ops(args, out, err)
        try:
            return handler(ops)
        except KeyboardInterrupt:
            err.print("\ninterrupted", highlight=False)
            return INTERRUPTED
        except (UsageError, ConfigurationError) as exc:
            err.print(f"squirrel: error: {exc}", highlight=False, markup=False)
            return USAGE
        except ApiError as exc:
            err.print(f"squirrel: error: {_describe(exc)}", highlight=False, markup=False)
            return exit_code_for(exc)
        finally:
            ops.close()

    return run


def _describe(exc: ApiError) -> str:
    if exc.status == 0:
        return exc.detail
    extra = "".join(f"; {k}: {v}" for k, v in exc.extra.items() if k in ("jobId", "missing", "hint"))
    return f"{exc.detail} (HTTP {exc.status} {exc.slug}){extra}"


def add_connection_flags(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    g = p.add_argument_group("connection")
    g.add_argument("--url", help="server URL (SQUIRREL_URL, default http://127.0.0.1:8080)")
    g.add_argument("--key-file", help="file holding the API key, mode 0600 (else SQUIRREL_API_KEY)")
    g.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout (for scripts)")


def leaf(sub: Any, name: str, handler: Handler, help: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
    """A verb's parser with the shared flags, dispatching to `handler`."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    add_connection_flags(p, json_flag=json_flag)
    p.set_defaults(func=runner(handler))
    return p
