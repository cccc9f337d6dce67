"""What the case engine brings to the app (entry point `tongban.slices`: cases)."""

from tongban.core.i18n import N_
from tongban.core.indicators import HISTORY, INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="cases",
    order=70,
    models="tongban.cases.models",
    api=("tongban.cases.api:router",),
    pages=("tongban.cases.pages:router", "tongban.cases.open311:router"),
    commands=(Command("cases", "tongban.cases.cli:app", "12345 cases and grid events (诉求, 网格事件), Open311 keys."),),
    jobs=("tongban.cases.jobs",),
    pack_sections=("tongban.cases.pack_sections",),
    reads={"closed_case": "tongban.cases.reads:closed_case", "closed_cases": "tongban.cases.reads:closed_cases",
           "closed_cases_of": "tongban.cases.reads:closed_cases_of",
           "closed_cases_written": "tongban.cases.reads:closed_cases_written"},
    writes={"note_rating": "tongban.cases.reads:note_rating"},
    contributions=(
        Contribution("messages.kinds", "tongban.cases.notify:MESSAGE_KINDS"),
        Contribution(INDICATORS, "tongban.cases.indicators:INDICATORS"),
        Contribution(HISTORY, "tongban.cases.history:PART"),
        Contribution("web.portal_tiles", Link("speak", N_("I want to speak up"),
                                              N_("Suggestions, requests and complaints"), "/portal/cases"), 40),
        Contribution("web.workbench_tiles", Link("cases", N_("12345 cases"),
                                                 N_("Requests and grid events for your department or hotline"),
                                                 "/workbench/cases", ("hotline.handle", "task.decide", "task.reassign", "grid.visit")),
                     25),
    ),
)
