"""squirrel.progress: the CLI's progress line (plain lines off a TTY, one redrawn line on it)."""

from __future__ import annotations

import io

from squirrel.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_off_a_tty() -> None:
    out = io.StringIO()
    with Progress(4, "bench", stream=out) as bar:
        bar.step("one")
        bar.step("two", n=2)
        bar.set("phase")
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert [line.split()[:2] for line in lines] == [
        ["bench", "25%"],
        ["bench", "75%"],
        ["bench", "75%"],
        ["bench", "100%"],
    ]
    assert lines[0].endswith("one") and lines[2].endswith("phase")


def test_progress_never_passes_the_total_and_a_total_is_at_least_one() -> None:
    out = io.StringIO()
    bar = Progress(0, stream=out)
    assert bar.total == 1
    bar.step(n=5)
    assert bar.done == 1
    assert "100%" in out.getvalue()


def test_one_redrawn_line_on_a_tty() -> None:
    out = _Tty()
    bar = Progress(2, "t", stream=out, width=10)
    bar.step("half")
    assert out.getvalue().startswith("\r\x1b[2K")
    assert "[#####-----]  50%" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\n") and "[##########] 100%" in out.getvalue()


def test_close_is_once_and_nothing_draws_after_it() -> None:
    out = io.StringIO()
    bar = Progress(3, stream=out)
    bar.close()
    bar.close()
    bar.step("late")
    assert out.getvalue().count("\n") == 1
    assert "late" not in out.getvalue()


def test_a_long_label_is_cut_on_a_tty() -> None:
    out = _Tty()
    Progress(1, stream=out).set("x" * 500)
    assert len(out.getvalue()) == len("\r\x1b[2K") + 160
