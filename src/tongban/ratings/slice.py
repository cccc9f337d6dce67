"""What 好差评 brings to the app (entry point `tongban.slices`: ratings)."""

from tongban.core.i18n import N_
from tongban.core.indicators import HISTORY, INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="ratings",
    order=80,
    models="tongban.ratings.models",
    api=("tongban.ratings.api:router",),
    pages=("tongban.ratings.pages:router",),
    commands=(Command("ratings", "tongban.ratings.cli:app", "Ratings (好差评): statistics and the overdue watch."),),
    jobs=("tongban.ratings.jobs",),
    pack_sections=("tongban.ratings.pack_sections",),
    reads={"statistics": "tongban.ratings.service:statistics"},
    contributions=(
        Contribution("messages.kinds", "tongban.ratings.service:MESSAGE_KINDS"),
        Contribution("services.completed", "tongban.ratings.service:on_completed"),
        Contribution("cases.rated", "tongban.ratings.service:on_case_rated"),
        Contribution(INDICATORS, "tongban.ratings.indicators:INDICATORS"),
        Contribution(HISTORY, "tongban.ratings.history:PART"),
        Contribution("web.portal_tiles", Link("rate", N_("I want to rate"), N_("Rate a service you received"),
                                              "/portal/ratings"), 30),
        Contribution("web.workbench_tiles", Link("ratings", N_("Ratings and rectification"),
                                                 N_("Answer poor ratings of your department, appeal or review"),
                                                 "/workbench/ratings", ("task.decide", "rating.review")), 27),
        Contribution("web.workbench_tiles", Link("rating-counter", N_("Counter rating tablet"),
                                                 N_("Let a resident rate the service at the window"),
                                                 "/workbench/ratings/counter", ("counter.file",)), 31),
    ),
)
