"""What appointments bring to the app (entry point `tongban.slices`: appointments)."""

from tongban.core.i18n import N_
from tongban.core.indicators import HISTORY, INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="appointments",
    order=70,
    models="tongban.appointments.models",
    api=("tongban.appointments.api:router",),
    pages=("tongban.appointments.pages:router",),
    commands=(Command("appointments", "tongban.appointments.cli:app",
                      "Appointments (分时预约): resources, the day's bookings, reminders."),),
    jobs=("tongban.appointments.jobs",),
    pack_sections=("tongban.appointments.pack_sections",),
    contributions=(
        Contribution("messages.kinds", "tongban.appointments.service:MESSAGE_KINDS"),
        Contribution("services.guide_actions", "tongban.appointments.links:guide_action", 20),
        Contribution("places.place_actions", "tongban.appointments.links:place_action", 20),
        Contribution(INDICATORS, "tongban.appointments.indicators:INDICATORS"),
        Contribution(HISTORY, "tongban.appointments.indicators:PART"),
        # `tongban demo load`: a booking of the cast's resident.wang at the 南门 window.
        Contribution("demo.loaded", "tongban.appointments.demo:seed_demo"),
        Contribution("web.portal_tiles", Link("appointments", N_("My appointments"),
                                              N_("Times booked at service halls, clinics and venues"),
                                              "/appointments/mine"), 48),
        Contribution("web.workbench_tiles", Link("appointments", N_("Appointments"),
                                                 N_("Today's bookings at your windows; no-shows; book for a resident"),
                                                 "/workbench/appointments", ("appointments.serve",)), 30),
    ),
)
