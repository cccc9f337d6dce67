"""What the registry slice brings to the app (entry point `tongban.slices`: registry)."""

from tongban.core.slices import Command, Slice

SLICE = Slice(
    name="registry",
    order=10,
    models="tongban.registry.models",
    api=("tongban.registry.api:router",),
    pages=("tongban.registry.pages:router",),
    commands=(Command("registry", "tongban.registry.cli:app", "The base registries."),),
    pack_sections=("tongban.registry.pack_sections",),
    reads={
        "household_of": "tongban.registry.reads:household_of",
        "persons_by_id": "tongban.registry.reads:persons_by_id",
    },
)
