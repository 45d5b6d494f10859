"""Service configuration in the settings area (holders of service.settings:manage): the working
calendars, the SLA policies, the ticket types, the after-sales tickets of won deals and the assignment rules. Served under /settings/service/ (service/settings_sections.py): "settings:service:…"."""
from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.calendar_list, name="calendars"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/<int:calendar_pk>/", views.calendar_detail, name="calendar"),
    path("calendars/<int:calendar_pk>/edit/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:calendar_pk>/days/", views.days_add, name="days_add"),
    path("calendars/<int:calendar_pk>/days/<int:day_pk>/delete/", views.day_delete, name="day_delete"),
    path("calendars/<int:calendar_pk>/official/", views.official_days_add, name="official_days_add"),
    path("sla-policies/", views.policy_list, name="sla_policies"),
    path("sla-policies/new/", views.policy_create, name="sla_policy_create"),
    path("sla-policies/<int:policy_pk>/", views.policy_edit, name="sla_policy_edit"),
    path("sla-policies/<int:policy_pk>/move/", views.policy_move, name="sla_policy_move"),
    path("sla-policies/<int:policy_pk>/delete/", views.policy_delete, name="sla_policy_delete"),
    path("ticket-types/", views.ticket_type_list, name="ticket_types"),
    path("ticket-types/new/", views.ticket_type_create, name="ticket_type_create"),
    path("ticket-types/<int:type_pk>/", views.ticket_type_edit, name="ticket_type_edit"),
    path("after-sales/", views.after_sales_list, name="after_sales"),
    path("after-sales/<int:pipeline_pk>/", views.after_sales_edit, name="after_sales_edit"),
    path("assignment-rules/", views.assignment_rule_list, name="assignment_rules"),
    path("assignment-rules/new/", views.assignment_rule_create, name="assignment_rule_create"),
    path("assignment-rules/<int:rule_pk>/", views.assignment_rule_edit, name="assignment_rule_edit"),
    path("assignment-rules/<int:rule_pk>/move/", views.assignment_rule_move, name="assignment_rule_move"),
    path("assignment-rules/<int:rule_pk>/delete/", views.assignment_rule_delete, name="assignment_rule_delete"),
]
