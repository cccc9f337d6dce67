"""`tongban bench …`: benchmarks that print a table with the comparison figure beside ours.

Each area adds a module here whose commands attach to `app`.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks (tables of our figures beside the yardstick's).", no_args_is_help=True)
from tongban_bench import audit as _audit  # noqa: E402,F401
from tongban_bench import booking as _booking  # noqa: E402,F401
from tongban_bench import cases as _cases  # noqa: E402,F401
from tongban_bench import cockpit as _cockpit  # noqa: E402,F401
from tongban_bench import codes as _codes  # noqa: E402,F401
from tongban_bench import exchange as _exchange  # noqa: E402,F401
from tongban_bench import history_parts as _history_parts  # noqa: E402,F401
from tongban_bench import jobs as _jobs  # noqa: E402,F401
from tongban_bench import load as _load  # noqa: E402,F401
from tongban_bench import pages as _pages  # noqa: E402,F401
from tongban_bench import places as _places  # noqa: E402,F401
from tongban_bench import quality as _quality  # noqa: E402,F401
from tongban_bench import registry as _registry  # noqa: E402,F401
from tongban_bench import screen as _screen  # noqa: E402,F401
from tongban_bench import services as _services  # noqa: E402,F401
