"""What the services slice brings to the app (entry point `tongban.slices`: services)."""

from tongban.core.i18n import N_
from tongban.core.indicators import HISTORY, INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="services",
    order=50,
    models="tongban.services.models",
    api=("tongban.services.api:router", "tongban.services.catalog_api:router"),
    pages=("tongban.services.pages:router", "tongban.services.filing_pages:router",
           "tongban.services.verify_page:router", "tongban.services.catalog_pages:router"),
    commands=(Command("cert", "tongban.services.cli:app", "Electronic certificates (电子证照)."),),
    jobs=("tongban.services.deadlines", "tongban.services.notice"),
    pack_sections=("tongban.services.pack_sections",),
    reads={"completed_application": "tongban.services.reads:completed_application",
           "completed_applications": "tongban.services.reads:completed_applications",
           "application_of_task": "tongban.services.reads:application_of_task",
           "completed_applications_of": "tongban.services.reads:completed_applications_of",
           "completed_applications_written": "tongban.services.reads:completed_applications_written"},
    contributions=(
        Contribution("messages.kinds", "tongban.services.notify:MESSAGE_KINDS"),
        Contribution(INDICATORS, "tongban.services.indicators:INDICATORS"),
        Contribution(HISTORY, "tongban.services.history:PART"),
        Contribution("web.portal_tiles", Link("apply", N_("I want to apply"), N_("Apply for a service or a one-thing bundle"),
                                              "/portal/apply"), 10),
        Contribution("web.portal_tiles", Link("catalogue", N_("Service catalogue"),
                                              N_("Every service by domain and life event, with its guide"),
                                              "/catalogue"), 15),
        Contribution("web.portal_tiles", Link("query", N_("I want to check"),
                                              N_("Follow your applications and look up records"),
                                              "/portal/applications"), 20),
        Contribution("web.portal_tiles", Link("proxies", N_("Ask someone to apply for me"),
                                              N_("Let a family member apply for you, or apply for one who asked you"),
                                              "/portal/proxies"), 25),
        Contribution("web.portal_tiles", Link("wallet", N_("Your digital certificates"),
                                              N_("Certificates issued to you"), "/portal/wallet"), 60),
        Contribution("datahub.scope_titles", "tongban.services.onething:scope_title"),
        Contribution("web.workbench_tiles", Link("tasks", N_("Task queue"), N_("Applications waiting for your department"),
                                                 "/workbench/tasks", ("task.decide", "task.reassign")), 20),
        Contribution("web.workbench_tiles", Link("counter", N_("Service counter"),
                                                 N_("File an application for a resident at the window"),
                                                 "/workbench/counter", ("counter.file",)), 30),
    ),
)
