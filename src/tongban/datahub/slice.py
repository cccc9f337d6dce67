"""What the data hub brings to the app (entry point `tongban.slices`: datahub)."""

from tongban.core.i18n import N_
from tongban.core.indicators import INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="datahub",
    order=20,
    models="tongban.datahub.models",
    api=("tongban.datahub.api:router", "tongban.datahub.persons_api:router"),
    pages=("tongban.datahub.pages:router", "tongban.datahub.persons_pages:router"),
    commands=(Command("datahub", "tongban.datahub.cli:app", "The data hub: catalog, sharing requests, grants."),),
    jobs=("tongban.datahub.exchange",),
    pack_sections=("tongban.datahub.pack_sections",),
    reads={"consent": "tongban.datahub.consent:by_id"},
    writes={"give_scoped_consent": "tongban.datahub.consent:give_scoped"},
    contributions=(
        Contribution(INDICATORS, "tongban.datahub.indicators:INDICATORS"),
        Contribution("web.workbench_tiles", Link("persons", N_("Find a person"), N_("Search the registry in your region"),
                                                 "/workbench/persons", ("person.read",)), 10),
        Contribution("web.portal_tiles", Link("data", N_("My data"), N_("Your consents, and who used your data"),
                                              "/portal/data"), 70),
        Contribution("web.workbench_tiles", Link("sharing", N_("Data sharing"), N_("Catalog entries and sharing requests"),
                                                 "/workbench/catalog"), 40),
    ),
)
