"""What proactive screening brings to the app (entry point `tongban.slices`: screening)."""

from tongban.core.slices import Command, Contribution, Slice

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
        # A submitted application for an offered item takes the offer up, in the submission's
        # own transaction (services.applications.submit runs the listeners).
        Contribution("services.application_submitted", "tongban.screening.offers:on_submit"),
    ),
)
