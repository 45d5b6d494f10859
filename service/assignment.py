"""Reads of the assignment rules: which rule takes a ticket the system opens, the agents of a rule's
team, and the agent with the fewest open tickets. Configuration and agents only: the tickets are
counted, never shown, so no access layer is involved. The writes (the rules, the round robin's
place) are in service.services.assignment."""
from django.db.models import Count, F, IntegerField, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.capabilities import Scope

from .models import OPEN_STATUSES, AssignmentRule, Ticket


def active_assignment_rules():
    """The active rules in the order they are tried, their types preloaded (for holds_for)."""
    return AssignmentRule.objects.filter(is_active=True).select_related("team").prefetch_related("types").order_by(
        "order", "id")


def assignment_rule_for(*, customer, type_id, channel, rules=None):
    """The first active rule (of `rules`, else read here) whose conditions all hold for a ticket of
    `customer` with this type and channel; None when none does."""
    for rule in active_assignment_rules() if rules is None else rules:
        if rule.holds_for(tier=customer.tier, channel=channel, type_id=type_id, province=customer.province):
            return rule
    return None


def team_agents(team):
    """The agents a rule hands tickets to: active users of exactly `team` (not its sub-teams) who hold
    a role with a service scope."""
    from accounts.models import Role, User

    with_scope = Role.objects.filter(service_scope__gt=Scope.NONE).values("users")
    return User.objects.filter(team=team, is_active=True, pk__in=with_scope)


def least_loaded_agent(team):
    """The agent of `team` with the fewest open tickets; of those, the one whose last ticket is the
    oldest (none at all first), then the lowest id. One query, whatever the team's size; None for a
    team without agents."""
    mine = Ticket.objects.filter(assignee=OuterRef("pk")).order_by().values("assignee")
    open_count = mine.filter(status__in=OPEN_STATUSES).annotate(n=Count("pk")).values("n")
    last_ticket = mine.annotate(last=Max("created_at")).values("last")
    return (team_agents(team)
            .annotate(open_tickets=Coalesce(Subquery(open_count, output_field=IntegerField()), Value(0)),
                      last_ticket_at=Subquery(last_ticket))
            .order_by("open_tickets", F("last_ticket_at").asc(nulls_first=True), "pk")
            .first())
