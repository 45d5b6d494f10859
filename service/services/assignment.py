"""The assignment rules admins keep (saved, moved, deleted by holders of service.settings:manage), and
the pick of who gets a ticket the system opens: the first active rule that holds sends it to its
team, to the next agent in turn, to the one with the fewest open tickets, or into the team's queue."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _

from accounts.access import user_access
from accounts.capabilities import Capability
from crm.lib.audit import audited

from ..assignment import assignment_rule_for, least_loaded_agent, team_agents
from ..models import AssignmentMethod, AssignmentRule
from .calendars import move_in_order


def _require_manage(by):
    if not user_access(by).has(Capability.MANAGE_SERVICE):
        raise PermissionDenied


def assignment_rule_save(*, by, rule=None, types, **fields):
    """Create or change an assignment rule (`fields`: the model's, `types`: the ticket types it is
    limited to). A new rule goes last. Returns it."""
    _require_manage(by)
    with audited(by, "assignment_rule_save"):
        if AssignmentRule.objects.filter(name=fields["name"]).exclude(pk=getattr(rule, "pk", None)).exists():
            raise ValidationError({"name": _("A rule with this name exists already.")})
        if rule is None:
            last = AssignmentRule.objects.order_by("-order").values_list("order", flat=True).first() or 0
            rule = AssignmentRule(order=last + 10)
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.full_clean(exclude=["order", "last_assignee"])
        rule.save()
        rule.types.set(types)
    return rule


def assignment_rule_move(*, by, rule, up):
    """Swap the rule with the one before it (`up`) or after it in the order they are tried."""
    _require_manage(by)
    with audited(by, "assignment_rule_move"):
        move_in_order(AssignmentRule.objects.all(), rule, up=up)


def assignment_rule_delete(*, by, rule):
    _require_manage(by)
    with audited(by, "assignment_rule_delete"):
        rule.delete()


def assign_for(*, customer, type, channel):
    """(assignee, team) for a ticket the system opens, by the first active rule that holds: an agent of
    the rule's team (None: its queue, also when the team has no agent), or (None, None) when no rule
    holds. Round robin moves the rule's place under a row lock, so two tickets opened at once go to two
    agents; call it inside the transaction that saves the ticket."""
    rule = assignment_rule_for(customer=customer, type_id=type.pk, channel=channel)
    if rule is None:
        return None, None
    if rule.method == AssignmentMethod.LEAST_LOADED:
        return least_loaded_agent(rule.team), rule.team
    if rule.method == AssignmentMethod.ROUND_ROBIN:
        return _next_in_turn(rule), rule.team
    return None, rule.team


def _next_in_turn(rule):
    """The agent of the rule's team after the one who got its last ticket (by id, from the first again
    after the last), recorded as the rule's place; None for a team without agents."""
    last = (AssignmentRule.objects.select_for_update().filter(pk=rule.pk)
            .values_list("last_assignee_id", flat=True).get())
    after_last = Case(When(pk__gt=last or 0, then=Value(0)), default=Value(1), output_field=IntegerField())
    agent = team_agents(rule.team).order_by(after_last, "pk").first()
    if agent is not None:
        AssignmentRule.objects.filter(pk=rule.pk).update(last_assignee=agent)
    return agent
