"""What the data hub brings to the app (entry point `tongban.slices`: datahub)."""

from tongban.core.slices import Command, Slice

SLICE = Slice(
    name="datahub",
    order=20,
    models="tongban.datahub.models",
    api=("tongban.datahub.api:router",),
    pages=("tongban.datahub.pages:router",),
    commands=(Command("datahub", "tongban.datahub.cli:app", "The data hub: catalog, sharing requests, grants."),),
    jobs=("tongban.datahub.exchange",),
    pack_sections=("tongban.datahub.pack_sections",),
)
