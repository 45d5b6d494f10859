"""The reminder rules. Each rule is a small class: its key, its label, its parameters with defaults
and form fields, and ONE SELECT that returns the reminders due now, over the whole table:

    recipient_id, object_id, period, due_at, subject, data

`period` tells one occurrence from the next (the follow-up's due time, the stay in a stage, a stretch
without follow-up): the engine inserts (rule, recipient, record, period) once, and a reminder whose
row no longer comes back is resolved ("the reminder stops"). Adding a rule is a class here with
`@register`; nothing else changes (its settings row is created on the next scan).

SQL conventions: `%(now)s` is the scan's time; other placeholders are the rule's parameters as
returned by `sql_params`. Only active users are reminded; archived and merged customers never.
"""
import datetime

from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..lib import inputs

RULES = {}

# One text form of a timestamp for period keys (UTC, to the second), the same in every session.
def ts_key(column):
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')"""


LIVE_OWNED_CUSTOMER = ("c.owner_id IS NOT NULL AND c.archived_at IS NULL AND c.merged_into_id IS NULL")
# Days per tier: the rule's parameters days_a / days_b / days_c.
TIER_DAYS = "CASE c.tier WHEN 'A' THEN %({0}_a)s WHEN 'B' THEN %({0}_b)s ELSE %({0}_c)s END"


def register(cls):
    RULES[cls.key] = cls()
    return cls


def rule_for(key):
    return RULES.get(key)


def days_field(label, minimum=1):
    return inputs.IntegerField(label=label, min_value=minimum, max_value=3650)


def local(value):
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


class Rule:
    key = ""
    label = ""
    help_text = ""
    model = ""  # "app_label.Model" of the record the reminder is about
    defaults = {}
    # How heavy one scan of the rule is, relative to the others (its table's size, how many rows it
    # may raise): the scan spreads the rules over its processes by it.
    weight = 1

    def record_model(self):
        return apps.get_model(self.model)

    def param_fields(self):
        """{parameter: form field}; the settings form is built from these."""
        return {}

    def params(self, stored):
        """The stored parameters over the defaults (unknown keys dropped)."""
        return {key: stored.get(key, default) for key, default in self.defaults.items()}

    def sql_params(self, params, now):
        return dict(params)

    def due_sql(self):
        raise NotImplementedError

    def message(self, notification):
        """What the reminder says, in the active language."""
        raise NotImplementedError

    def target_url(self, record):
        return record.get_absolute_url()


@register
class FollowUpDue(Rule):
    key = "followup_due"
    weight = 2  # every customer, one indexed condition
    label = gettext_lazy("Follow-up due")
    help_text = gettext_lazy("A customer's next follow-up time has come: to the owner.")
    model = "crm.Customer"

    def due_sql(self):
        return f"""
        SELECT c.owner_id AS recipient_id, c.id AS object_id, {ts_key('c.next_followup_at')} AS period,
               c.next_followup_at AS due_at, c.name AS subject, '{{}}'::jsonb AS data
        FROM crm_customer c JOIN accounts_user u ON u.id = c.owner_id AND u.is_active
        WHERE c.next_followup_at <= %(now)s AND {LIVE_OWNED_CUSTOMER}"""

    def message(self, n):
        return _("Follow-up due with %(customer)s (planned for %(when)s)") % {
            "customer": n.subject, "when": local(n.due_at)}


@register
class NotFollowedUp(Rule):
    """No follow-up for N days (by tier) since the last one (else since claimed, else created);
    after a second, longer limit the owner's manager is told too."""

    key = "not_followed_up"
    weight = 10  # every customer, twice (owner and manager)
    label = gettext_lazy("Not followed up")
    help_text = gettext_lazy("No follow-up for N days, by tier: to the owner; after a second limit also to "
                             "the owner's manager.")
    model = "crm.Customer"
    defaults = {"days_a": 3, "days_b": 7, "days_c": 30, "escalate_a": 7, "escalate_b": 14, "escalate_c": 60}

    def param_fields(self):
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
        since = n.due_at - datetime.timedelta(days=n.data.get("days") or 0) if n.due_at else None
        values = {"customer": n.subject, "days": n.data.get("days"), "since": local(since)}
        if n.data.get("escalation"):
            return _("%(customer)s of your team has had no follow-up for %(days)s days (since %(since)s)") % values
        return _("%(customer)s has had no follow-up for %(days)s days (since %(since)s)") % values


@register
class OpportunityStale(Rule):
    """Open and longer in its stage than the stage's "stale after" (as the board counts it)."""

    key = "opportunity_stale"
    label = gettext_lazy("Deal stale in its stage")
    help_text = gettext_lazy("An open deal has stayed in its stage longer than the stage allows: to the owner.")
    model = "sales.Opportunity"

    def due_sql(self):
        # The SQL of sales OpportunityQuerySet.stale (keep the two the same rule).
        return f"""
        SELECT o.owner_id AS recipient_id, o.id AS object_id,
               o.stage_id::text || '@' || {ts_key('o.stage_entered_at')} AS period,
               o.stage_entered_at + make_interval(days => s.stale_after_days + 1) AS due_at, o.name AS subject,
               jsonb_build_object('stage', s.name, 'days', s.stale_after_days) AS data
        FROM sales_opportunity o
        JOIN sales_stage s ON s.id = o.stage_id AND s.stale_after_days IS NOT NULL
        JOIN accounts_user u ON u.id = o.owner_id AND u.is_active
        WHERE o.closed_at IS NULL
          AND o.stage_entered_at <= %(now)s - make_interval(days => s.stale_after_days + 1)"""

    def message(self, n):
        return _("%(deal)s has been in %(stage)s for more than %(days)s days") % {
            "deal": n.subject, "stage": n.data.get("stage", ""), "days": n.data.get("days")}


@register
class CloseDatePassed(Rule):
    key = "close_date_passed"
    label = gettext_lazy("Expected close date passed")
    help_text = gettext_lazy("An open deal's expected close date has passed: to the owner.")
    model = "sales.Opportunity"

    def sql_params(self, params, now):
        return {**params, "today": timezone.localdate(now)}

    def due_sql(self):
        return """
        SELECT o.owner_id AS recipient_id, o.id AS object_id, o.expected_close::text AS period,
               o.expected_close::timestamptz AS due_at, o.name AS subject,
               jsonb_build_object('date', o.expected_close) AS data
        FROM sales_opportunity o JOIN accounts_user u ON u.id = o.owner_id AND u.is_active
        WHERE o.closed_at IS NULL AND o.expected_close < %(today)s"""

    def message(self, n):
        return _("%(deal)s was expected to close on %(date)s and is still open") % {
            "deal": n.subject, "date": n.data.get("date", "")}


@register
class PoolWarning(Rule):
    """The customer will return to its pool within N days under the pool's rules (computed as
    `crm.services.pool` does: the pool of the customer's team, the tier's days, the exemptions)."""

    key = "pool_warning"
    weight = 5  # every customer, for two pool limits
    label = gettext_lazy("Customer about to return to the pool")
    help_text = gettext_lazy("A customer will return to the pool within N days under the pool rules: to the owner.")
    model = "crm.Customer"
    defaults = {"days_before": 3}

    def param_fields(self):
        return {"days_before": days_field(_("Warn this many days before"))}

    def sql_params(self, params, now):
        from crm.models import Pool
        from crm.services.pool import _teams_of_pools

        pools = list(Pool.objects.all())
        teams, pool_ids, default_pool = [], [], None
        for pool_id, (team_ids, no_team) in _teams_of_pools(pools).items():
            teams += team_ids
            pool_ids += [pool_id] * len(team_ids)
            default_pool = pool_id if no_team else default_pool
        return {**params, "map_teams": teams, "map_pools": pool_ids, "default_pool": default_pool}

    def due_sql(self):
        def select(kind, base, days, extra):
            return f"""
            SELECT c.owner_id AS recipient_id, c.id AS object_id, '{kind}@' || {ts_key(base)} AS period,
                   {base} + make_interval(days => {days}) AS due_at, c.name AS subject,
                   jsonb_build_object('pool', p.name) AS data
            FROM crm_customer c
            JOIN accounts_user u ON u.id = c.owner_id AND u.is_active
            LEFT JOIN map ON map.team_id = c.team_id
            JOIN crm_pool p ON p.id = CASE WHEN c.team_id IS NULL THEN %(default_pool)s ELSE map.pool_id END
            WHERE {LIVE_OWNED_CUSTOMER} {extra}
              AND (NOT p.exempt_deal OR c.deal_status <> 'won') AND (NOT p.exempt_locked OR NOT c.locked)
              AND {days} IS NOT NULL  -- an empty number switches the pool's rule off (GREATEST would skip a NULL)
              AND {base} + make_interval(days => GREATEST({days} - %(days_before)s, 0)) < %(now)s"""

        idle = ("CASE c.tier WHEN 'A' THEN p.idle_days_a WHEN 'B' THEN p.idle_days_b ELSE p.idle_days_c END")
        no_deal = ("CASE c.tier WHEN 'A' THEN p.no_deal_days_a WHEN 'B' THEN p.no_deal_days_b "
                   "ELSE p.no_deal_days_c END")
        return f"""
        WITH map AS (SELECT * FROM unnest(%(map_teams)s::bigint[], %(map_pools)s::bigint[]) AS m(team_id, pool_id))
        {select('idle', 'COALESCE(c.last_followup_at, c.claimed_at, c.created_at)', idle, '')}
        UNION ALL
        {select('no_deal', 'c.claimed_at', no_deal, "AND c.deal_status = 'none'")}"""

    def message(self, n):
        values = {"customer": n.subject, "pool": n.data.get("pool", ""), "when": local(n.due_at)}
        if n.due_at <= timezone.now():  # past its time: the pool's next nightly run takes it
            return _("%(customer)s is past its time and returns to the pool %(pool)s at the next pool run "
                     "unless you follow up now") % values
        return _("%(customer)s will return to the pool %(pool)s on %(when)s unless you follow up") % values


@register
class QuoteWaiting(Rule):
    """A quote's approval has waited more than N hours: to its approver, or to every active holder
    of the approver role."""

    key = "quote_approval_waiting"
    label = gettext_lazy("Quote waiting for approval")
    help_text = gettext_lazy("A quote has waited for approval more than N hours: to the approver "
                             "(or everyone holding the approver role).")
    model = "sales.QuoteApproval"
    defaults = {"hours": 24}

    def param_fields(self):
        return {"hours": inputs.IntegerField(label=_("Hours"), min_value=1, max_value=24 * 90)}

    def due_sql(self):
        return f"""
        SELECT u.id AS recipient_id, a.id AS object_id, {ts_key('a.requested_at')} AS period,
               a.requested_at + make_interval(hours => %(hours)s) AS due_at,
               q.number || ' ' || q.title AS subject,
               jsonb_build_object('hours', %(hours)s, 'requested_at', a.requested_at) AS data
        FROM sales_quoteapproval a
        JOIN sales_quote q ON q.id = a.quote_id AND q.status = 'pending'
        LEFT JOIN accounts_user_roles r ON a.approver_id IS NULL AND r.role_id = a.approver_role_id
        JOIN accounts_user u ON u.id = COALESCE(a.approver_id, r.user_id) AND u.is_active
        WHERE a.decision = 'pending' AND a.requested_at < %(now)s - make_interval(hours => %(hours)s)"""

    def message(self, n):
        return _("Quote %(quote)s has waited for your approval since %(when)s") % {
            "quote": n.subject, "when": local(n.data_time("requested_at"))}

    def target_url(self, record):
        return reverse("sales:quote_detail", args=[record.quote_id])


@register
class InstalmentOverdue(Rule):
    key = "instalment_overdue"
    label = gettext_lazy("Payment overdue")
    help_text = gettext_lazy("A payment instalment is overdue: to the deal's owner.")
    model = "sales.Instalment"

    def due_sql(self):
        return """
        SELECT o.owner_id AS recipient_id, i.id AS object_id, i.due_on::text AS period,
               i.due_on::timestamptz AS due_at, k.number || ' #' || i.number::text AS subject,
               jsonb_build_object('due_on', i.due_on, 'amount', i.amount - i.paid) AS data
        FROM sales_instalment i
        JOIN sales_contract k ON k.id = i.contract_id
        JOIN sales_opportunity o ON o.id = k.opportunity_id
        JOIN accounts_user u ON u.id = o.owner_id AND u.is_active
        WHERE i.status = 'overdue'"""

    def message(self, n):
        return _("Instalment %(instalment)s was due on %(date)s and is not paid") % {
            "instalment": n.subject, "date": n.data.get("due_on", "")}

    def target_url(self, record):
        return reverse("sales:contract_detail", args=[record.contract_id])
