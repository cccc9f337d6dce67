"""What the messaging slice brings to the app (entry point `tongban.slices`: messages)."""

from tongban.core.i18n import N_
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="messages",
    order=45,
    models="tongban.messages.models",
    api=("tongban.messages.api:router",),
    pages=("tongban.messages.pages:router",),
    commands=(Command("messages", "tongban.messages.cli:app", "Messages (消息): the outbox and its deliveries."),),
    jobs=("tongban.messages.outbox",),
    pack_sections=("tongban.messages.templates",),
    contributions=(
        Contribution("messages.kinds", "tongban.messages.outbox:MESSAGE_KINDS"),
        Contribution("web.portal_tiles", Link("messages", N_("Your messages"), N_("Notices and offers sent to you"),
                                              "/portal/messages"), 50),
        Contribution("web.workbench_tiles", Link("reminders", N_("Your reminders"),
                                                 N_("Deadline warnings and new tasks for your queue"),
                                                 "/workbench/messages"), 25),
    ),
)
