"""What the cockpit brings to the app (entry point `tongban.slices`: cockpit)."""

from tongban.core.i18n import N_
from tongban.core.indicators import INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="cockpit",
    order=90,
    models="tongban.cockpit.models",
    api=("tongban.cockpit.api:router",),
    pages=("tongban.cockpit.pages:router",),
    commands=(Command("cockpit", "tongban.cockpit.cli:app",
                      "The cockpit (驾驶舱): refresh its figures, generate a service history."),),
    jobs=("tongban.cockpit.jobs",),
    pack_sections=("tongban.cockpit.pack_sections",),
    contributions=(
        Contribution(INDICATORS, "tongban.cockpit.indicators:INDICATORS"),
        Contribution("demo.loaded", "tongban.cockpit.store:seed_demo", 900),  # after the others' demo data
        Contribution("web.workbench_tiles", Link("cockpit", N_("Department figures"),
                                                 N_("Your department's figures and early warnings"),
                                                 "/cockpit", ("cockpit.department",)), 70),
    ),
)
