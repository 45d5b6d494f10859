"""The customer core's reminder rules, registered with the engine (crm.notifications): a follow-up
due, a customer not followed up (escalated to the owner's manager), a customer about to return to
its pool. Each is one SELECT over the whole customer table; see crm/notifications/rules.py."""
import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .notifications.rules import Rule, days_field, list_url, local, register, ts_key
from .selectors.pool_rules import POOL_MAP_CTE, pool_map_params, returns_due_sql

LIVE_OWNED_CUSTOMER = ("c.owner_id IS NOT NULL AND c.archived_at IS NULL AND c.merged_into_id IS NULL")
# Days per tier: the rule's parameters days_a / days_b / days_c.
TIER_DAYS = "CASE c.tier WHEN 'A' THEN %({0}_a)s WHEN 'B' THEN %({0}_b)s ELSE %({0}_c)s END"


class CustomerRule(Rule):
    model = "crm.Customer"

    def group_url(self, notification):
        """The customer list, filtered to the group's open customers (the list's own access layer)."""
        return list_url("crm:customer_list", reminder=notification.pk)


@register
class FollowUpDue(CustomerRule):
    key = "followup_due"
    weight = 2  # every customer, one indexed condition
    label = gettext_lazy("Follow-up due")
    help_text = gettext_lazy("A customer's next follow-up time has come: to the owner.")

    def due_sql(self):
        return f"""
        SELECT c.owner_id AS recipient_id, c.id AS object_id, {ts_key('c.next_followup_at')} AS period,
               c.next_followup_at AS due_at, c.name AS subject, '{{}}'::jsonb AS data
        FROM crm_customer c JOIN accounts_user u ON u.id = c.owner_id AND u.is_active
        WHERE c.next_followup_at <= %(now)s AND {LIVE_OWNED_CUSTOMER}"""

    def message(self, n):
        return _("Follow-up due with %(customer)s (planned for %(when)s)") % {
            "customer": n.subject, "when": local(n.due_at)}

    def group_message(self, n, count):
        return ngettext("%(n)s customer is due for a follow-up", "%(n)s customers are due for a follow-up",
                        count) % {"n": count}


@register
class NotFollowedUp(CustomerRule):
    """No follow-up for N days (by tier) since the last one (else since claimed, else created);
    after a second, longer limit the owner's manager is told too."""

    key = "not_followed_up"
    weight = 10  # every customer, twice (owner and manager)
    label = gettext_lazy("Not followed up")
    help_text = gettext_lazy("No follow-up for N days, by tier: to the owner; after a second limit also to "
                             "the owner's manager.")
    defaults = {"days_a": 3, "days_b": 7, "days_c": 30, "escalate_a": 7, "escalate_b": 14, "escalate_c": 60}
    # "18 customers not followed up for 7 days": the shortest limit they all passed; "of your team"
    # when every one is an escalation.
    group_data = ("jsonb_build_object('days', min((data->>'days')::int), "
                  "'escalation', bool_and((data->>'escalation')::boolean))")

    def rule_fields(self):
        return {
            "days_a": days_field(_("Tier A: days")), "days_b": days_field(_("Tier B: days")),
            "days_c": days_field(_("Tier C: days")),
            "escalate_a": days_field(_("Tier A: days before the manager is told")),
            "escalate_b": days_field(_("Tier B: days before the manager is told")),
            "escalate_c": days_field(_("Tier C: days before the manager is told")),
        }

    def due_sql(self):
        base = "COALESCE(c.last_followup_at, c.claimed_at, c.created_at)"
        days, escalate = TIER_DAYS.format("days"), TIER_DAYS.format("escalate")
        select = f"""
            SELECT {{recipient}} AS recipient_id, c.id AS object_id, {ts_key(base)} AS period,
                   {base} + make_interval(days => {{limit}}) AS due_at, c.name AS subject,
                   jsonb_build_object('days', {{limit}}, 'escalation', {{escalation}}) AS data
            FROM crm_customer c JOIN accounts_user u ON u.id = c.owner_id AND u.is_active
            {{join}}
            WHERE {LIVE_OWNED_CUSTOMER} AND {base} < %(now)s - make_interval(days => {{limit}})"""
        owner = select.format(recipient="c.owner_id", limit=days, escalation="false", join="")
        manager = select.format(recipient="m.id", limit=escalate, escalation="true",
                                join="JOIN accounts_user m ON m.id = u.manager_id AND m.is_active")
        return f"{owner}\nUNION ALL\n{manager}"

    def message(self, n):
        days = n.data.get("days") or 0
        since = n.due_at - datetime.timedelta(days=days) if n.due_at else None
        values = {"customer": n.subject, "days": days, "since": local(since)}
        if n.data.get("escalation"):
            return ngettext(
                "%(customer)s of your team has had no follow-up for %(days)s day (since %(since)s)",
                "%(customer)s of your team has had no follow-up for %(days)s days (since %(since)s)", days) % values
        return ngettext("%(customer)s has had no follow-up for %(days)s day (since %(since)s)",
                        "%(customer)s has had no follow-up for %(days)s days (since %(since)s)", days) % values

    def group_message(self, n, count):
        days = n.data.get("days") or 0
        values = {"n": count, "period": ngettext("%(days)s day", "%(days)s days", days) % {"days": days}}
        if n.data.get("escalation"):
            text = ngettext("%(n)s customer of your team not followed up for %(period)s",
                            "%(n)s customers of your team not followed up for %(period)s", count)
        else:
            text = ngettext("%(n)s customer not followed up for %(period)s",
                            "%(n)s customers not followed up for %(period)s", count)
        return text % values


@register
class PoolWarning(CustomerRule):
    """The customer will return to its pool within N days under the pool's rules: the nightly
    return's own SELECT (crm.selectors.pool_rules), read N days ahead."""

    key = "pool_warning"
    weight = 5  # every customer, for two pool limits
    label = gettext_lazy("Customer about to return to the pool")
    help_text = gettext_lazy("A customer will return to the pool within N days under the pool rules: to the owner.")
    defaults = {"days_before": 3}

    def rule_fields(self):
        return {"days_before": days_field(_("Warn this many days before"))}

    def sql_params(self, params, now):
        return {**params, **pool_map_params()}

    def due_sql(self):
        def select(kind):
            return f"""
            SELECT r.owner_id AS recipient_id, r.customer_id AS object_id,
                   '{kind}@' || {ts_key('r.since')} AS period, r.returns_at AS due_at, r.customer_name AS subject,
                   jsonb_build_object('pool', r.pool_name) AS data
            FROM ({returns_due_sql(kind, ahead='%(days_before)s')}) r
            JOIN accounts_user u ON u.id = r.owner_id AND u.is_active"""

        return f"WITH {POOL_MAP_CTE}\n{select('idle')}\nUNION ALL\n{select('no_deal')}"

    def message(self, n):
        values = {"customer": n.subject, "pool": n.data.get("pool", ""), "when": local(n.due_at)}
        if n.due_at <= timezone.now():  # past its time: the pool's next nightly run takes it
            return _("%(customer)s is past its time and returns to the pool %(pool)s at the next pool run "
                     "unless you follow up now") % values
        return _("%(customer)s will return to the pool %(pool)s on %(when)s unless you follow up") % values

    def group_message(self, n, count):
        return ngettext("%(n)s customer will soon return to the pool unless you follow up",
                        "%(n)s customers will soon return to the pool unless you follow up", count) % {"n": count}
