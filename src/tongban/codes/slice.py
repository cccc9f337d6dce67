"""What codes bring to the app (entry point `tongban.slices`: codes)."""

from tongban.core.i18n import N_
from tongban.core.indicators import HISTORY, INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="codes",
    order=70,
    models="tongban.codes.models",
    api=("tongban.codes.api:router",),
    pages=("tongban.codes.pages:router",),
    commands=(Command("codes", "tongban.codes.cli:app", "Codes (码): 浙农码, 安心码, 人才码, 出租房一码通 — issue, verify."),),
    pack_sections=("tongban.codes.pack_sections",),
    contributions=(
        Contribution(INDICATORS, "tongban.codes.indicators:INDICATORS"),
        Contribution(HISTORY, "tongban.codes.history:PART"),
        # Revoked codes go into the signed revocation list the certificates publish.
        Contribution("services.revocations", "tongban.codes.service:revoked_entries"),
        # `tongban demo load`: generated subjects of every code type, each with its code.
        Contribution("demo.loaded", "tongban.codes.demo_data:seed_demo"),
        Contribution("web.workbench_tiles", Link("codes", N_("Codes"),
                                                 N_("Codes your department issued: issue, check and revoke"),
                                                 "/workbench/codes", ("task.decide",)), 90),
    ),
)
