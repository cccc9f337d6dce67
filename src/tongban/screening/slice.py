"""What proactive screening brings to the app (entry point `tongban.slices`: screening)."""

from tongban.core.i18n import N_
from tongban.core.indicators import INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="screening",
    order=60,
    models="tongban.screening.models",
    api=("tongban.screening.api:router",),
    pages=("tongban.screening.pages:router",),
    commands=(Command("screen", "tongban.screening.cli:screen",
                      "Screen the population for entitlements (应享尽享) and risks (返贫预警)."),),
    jobs=("tongban.screening.jobs",),
    pack_sections=("tongban.screening.pack_sections",),
    contributions=(
        Contribution("messages.kinds", "tongban.screening.offers:MESSAGE_KINDS"),
        Contribution(INDICATORS, "tongban.screening.indicators:INDICATORS"),
        Contribution("web.workbench_tiles", Link("screening", N_("Screening"),
                                                 N_("Who may be entitled, visit lists and risk alerts"),
                                                 "/workbench/screening", ("person.read",)), 70),
        # A submitted application for an offered item takes the offer up, in the submission's
        # own transaction (services.applications.submit runs the listeners).
        Contribution("services.application_submitted", "tongban.screening.offers:on_submit"),
    ),
)
