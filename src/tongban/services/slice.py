"""What the services slice brings to the app (entry point `tongban.slices`: services)."""

from tongban.core.slices import Command, Slice

SLICE = Slice(
    name="services",
    order=50,
    models="tongban.services.models",
    api=("tongban.services.api:router", "tongban.services.catalog_api:router"),
    pages=("tongban.services.pages:router", "tongban.services.verify_page:router"),
    commands=(Command("cert", "tongban.services.cli:app", "Electronic certificates (电子证照)."),),
    jobs=("tongban.services.deadlines", "tongban.services.notice"),
    pack_sections=("tongban.services.pack_sections",),
)
