"""The service context is imported by every service and by the CLI: importing it loads neither libca nor
p4p (a one-shot command such as `squirrel keys create` needs neither)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_context_loads_no_protocol_library() -> None:
    code = (
        "import sys, squirrel.services.context; "
        "print(sorted(m for m in ('epicscorelibs.ca.cadef', 'p4p') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
