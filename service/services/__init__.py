"""Every write of the service desk: the settings admins keep (calendars, SLA policies, ticket types) and
the tickets agents work on."""
from .after_sales import after_sales_rule_save, ticket_for_won_deal
from .assignment import assign_for, assignment_rule_delete, assignment_rule_move, assignment_rule_save
from .calendars import (
    calendar_day_delete,
    calendar_days_save,
    calendar_official_days_add,
    calendar_save,
    official_years,
    sla_policy_delete,
    sla_policy_move,
    sla_policy_save,
    ticket_type_save,
)
from .tickets import (
    TRANSITIONS,
    agents_for,
    apply_sla,
    teams_within_reach,
    ticket_assign,
    ticket_check,
    ticket_create,
    ticket_follow_up,
    ticket_reply,
    ticket_set_status,
    ticket_update,
    tickets_assign,
)

__all__ = [
    "TRANSITIONS", "after_sales_rule_save", "agents_for", "assign_for", "assignment_rule_delete",
    "assignment_rule_move", "assignment_rule_save", "apply_sla", "calendar_day_delete", "calendar_days_save",
    "calendar_official_days_add", "calendar_save", "official_years", "sla_policy_delete", "sla_policy_move",
    "sla_policy_save", "teams_within_reach", "ticket_assign", "ticket_check", "ticket_create", "ticket_follow_up",
    "ticket_for_won_deal", "ticket_reply", "ticket_set_status", "ticket_type_save", "ticket_update", "tickets_assign",
]
