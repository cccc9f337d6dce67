"""`tongban demo …`: the demo region — load the pack and cast, generate a synthetic city, run it all.

`load_demo(session, settings)` is what `tongban demo up` (and so `make run`) calls on an
empty database: it loads the demo pack including its cast of fixed logins (docs/demo.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session

import tongban
from tongban.core import cliutil
from tongban.core.config import Settings
from tongban.core.errors import Forbidden
from tongban.core.i18n import N_
from tongban.core.packs.loader import LoadReport, PackError, load_pack

if TYPE_CHECKING:
    from tongban.registry.generator import Enrolments

app = typer.Typer(help="The demo region.", no_args_is_help=True)


def resolve_pack_dir(pack_dir: Path | str) -> Path:
    """A relative pack folder is taken from the working directory, else from the source checkout."""
    path = Path(pack_dir)
    if path.is_absolute() or path.exists():
        return path
    checkout = Path(tongban.__file__).resolve().parents[2] / path
    return checkout if checkout.exists() else path


def enrolments_of_pack(pack_dir: Path) -> Enrolments:
    """The benefits of the pack's `dibao` and `disability_care` policies, for the synthetic city's
    residents to hold; a policy the pack lacks (or one without a benefit) keeps the demo pack's
    code. Here, above both, because the registry's generator must not read policies."""
    from tongban.policy.parse import read_policies
    from tongban.registry.generator import Enrolments

    benefits = {p.id: p.benefit for p in read_policies(pack_dir).policies if p.benefit}
    default = Enrolments()
    return Enrolments(dibao=benefits.get("dibao", default.dibao),
                      disability_care=benefits.get("disability_care", default.disability_care))


def load_demo(session: Session, settings: Settings, *, pack_dir: Path | str | None = None) -> LoadReport:
    """Load the demo pack and its cast in `session`'s transaction; only in demo mode. Idempotent."""
    if not settings.demo:
        raise Forbidden(N_("The demo cast is loaded only in demo mode (TONGBAN_DEMO=1)"))
    return load_pack(session, resolve_pack_dir(pack_dir or settings.pack_dir), include_demo=True,
                     actor="system:demo")


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

from tongban.registry.generate_cli import generate  # noqa: E402

app.command("generate")(generate)
