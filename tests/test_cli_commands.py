"""`tongban` finds the sub-commands of installed packages through the entry-point group
`tongban.commands` and imports one only when it is called."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
sys.argv = ["tongban", *sys.argv[1:]]
from tongban.cli import app
try:
    app()
except SystemExit:
    pass
print("\\nIMPORTED:", "tongban_bench" in sys.modules)
"""


def _tongban(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_help_lists_bench_without_importing_the_benchmarks() -> None:
    out = _tongban("--help")
    # Listed with its distribution's summary (tongban-benchmarks), not imported.
    assert "bench" in out and "benchmarks of tongban beside their yardsticks" in out
    assert "IMPORTED: False" in out


def test_bench_is_loaded_from_its_entry_point_when_called() -> None:
    out = _tongban("bench", "--help")
    assert "screen" in out and "services" in out and "exchange" in out
    assert "IMPORTED: True" in out


def test_an_unknown_command_is_still_refused(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("no-such-command")
    assert result.exit_code == 2
