"""What the places slice brings to the app (entry point `tongban.slices`: places)."""

from tongban.core.i18n import N_
from tongban.core.indicators import INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="places",
    order=45,
    models="tongban.places.models",
    api=("tongban.places.api:router",),
    pages=("tongban.places.pages:router",),
    commands=(Command("places", "tongban.places.cli:app",
                      "Places (一张图): import, near-me search, the 15-minute service circle."),),
    pack_sections=("tongban.places.pack_sections",),
    reads={"service_circle": "tongban.places.coverage:service_circle",
           "near": "tongban.places.service:near",
           "place": "tongban.places.service:place_or_none",
           "place_by_key": "tongban.places.service:place_by_key"},
    contributions=(
        Contribution(INDICATORS, "tongban.places.indicators:INDICATORS"),
        Contribution("web.portal_tiles", Link("near", N_("Places near me"),
                                              N_("Service halls, clinics, care centres and more, nearest first"),
                                              "/places/near"), 45),
    ),
)
