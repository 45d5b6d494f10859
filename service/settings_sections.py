"""The service section of the settings area (see accounts.settings_area): the working calendars, the SLA policies, the ticket types, the after-sales tickets and the assignment rules."""
from django.utils.translation import gettext_lazy as _

from accounts.capabilities import Capability
from accounts.settings_area import Link, register_section

register_section(
    "service", _("Service"), order=50, urls="service.settings_urls.urlpatterns", links=[
        Link("calendars", _("Working calendars"), "settings:service:calendars", Capability.MANAGE_SERVICE,
             icon="calendar-week", description=_("Working hours, holidays and 调休 days the SLA clocks run on")),
        Link("sla_policies", _("SLA policies"), "settings:service:sla_policies", Capability.MANAGE_SERVICE,
             icon="stopwatch", description=_("First-response and resolution targets, the first that holds wins")),
        Link("ticket_types", _("Ticket types"), "settings:service:ticket_types", Capability.MANAGE_SERVICE,
             icon="tags", description=_("The kinds of tickets: 咨询, 故障, 投诉 …")),
        Link("after_sales", _("After-sales tickets"), "settings:service:after_sales", Capability.MANAGE_SERVICE,
             icon="box-seam", description=_("Per pipeline, the ticket a won deal opens, with its checklist")),
        Link("assignment_rules", _("Assignment rules"), "settings:service:assignment_rules", Capability.MANAGE_SERVICE,
             icon="shuffle", description=_("Who gets a ticket the system opens, the first rule that holds wins")),
    ])
