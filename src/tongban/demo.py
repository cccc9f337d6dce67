"""`tongban demo …`: the demo region — load the pack and cast, generate a synthetic city, run it all.

`load_demo(session, settings)` is what `tongban demo up` (and so `make run`) calls on an
empty database: it loads the demo pack including its cast of fixed logins (docs/demo.md).
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.orm import Session

from tongban.core import cliutil, slices
from tongban.core.config import Settings
from tongban.core.errors import Forbidden
from tongban.core.i18n import N_
from tongban.core.packs.loader import LoadReport, PackError, load_pack, resolve_pack_dir

app = typer.Typer(help="The demo region.", no_args_is_help=True)

DEMO_LOADED = "demo.loaded"  # the extension point: slices' demo data, after the pack


def load_demo(session: Session, settings: Settings, *, pack_dir: Path | str | None = None) -> LoadReport:
    """Load the demo pack and its cast in `session`'s transaction; only in demo mode. Idempotent."""
    if not settings.demo:
        raise Forbidden(N_("The demo cast is loaded only in demo mode (TONGBAN_DEMO=1)"))
    report = load_pack(session, resolve_pack_dir(pack_dir or settings.pack_dir), include_demo=True,
                       actor="system:demo")
    # What the slices add to the demo once the pack is in (e.g. codes: generated subjects and
    # their codes): `demo.loaded` contributions, each `(session, settings) -> None`, idempotent.
    for seed in slices.contributed(DEMO_LOADED):
        seed(session, settings)
    return report


@app.command("load")
def load(
    pack: Path | None = typer.Option(None, "--pack", help="The pack folder (default: TONGBAN_PACK_DIR)."),
) -> None:
    """Load the demo pack and its cast of demo logins (demo mode only)."""
    from tongban.core.packs.cli import print_report, report_problems

    settings = cliutil.settings()
    if not settings.demo:
        cliutil.fail("`demo load` runs only in demo mode (TONGBAN_DEMO=1): the cast has fixed passwords.",
                     cliutil.EXIT_CONFIG)
    with cliutil.unit_of_work() as session:
        try:
            report = load_demo(session, settings, pack_dir=pack)
        except PackError as exc:
            report_problems(exc)
    print_report(report)
    console_note = "demo logins: see docs/demo.md (one password for all: see cast.yaml)"
    cliutil.console.print(console_note)
