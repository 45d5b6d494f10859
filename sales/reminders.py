"""Sales' reminder rules, registered with the engine (crm.notifications): a deal stale in its stage,
an expected close date gone by, a quote waiting for approval, an instalment overdue. See
crm/notifications/rules.py for what a rule is."""
import datetime

from django.db.models import DateTimeField, ExpressionWrapper, F, TextField, Value
from django.db.models.functions import Cast, Concat, JSONObject
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.notifications.rules import Rule, TimestampKey, list_url, local, register, ts_key

from .models import Opportunity


class DealRule(Rule):
    model = "sales.Opportunity"

    def group_url(self, notification):
        """The deal list (every state: the group's deals are open, but say so in no filter of its
        own), filtered to the group's open deals, through the list's access layer."""
        return list_url("sales:opportunity_list", state="all", reminder=notification.pk)


@register
class OpportunityStale(DealRule):
    """Open and longer in its stage than the stage's "stale after": the board's, the dashboard's and
    the digest's rule (`OpportunityQuerySet.stale`), whose SQL the scan runs."""

    key = "opportunity_stale"
    label = gettext_lazy("Deal stale in its stage")
    help_text = gettext_lazy("An open deal has stayed in its stage longer than the stage allows: to the owner.")

    def due_queryset(self, params, now):
        one_day = Value(datetime.timedelta(days=1))
        return (Opportunity.objects.stale(now).filter(owner__is_active=True)
                .values(recipient_id=F("owner_id"), object_id=F("id"),
                        period=Concat(Cast("stage_id", TextField()), Value("@"), TimestampKey("stage_entered_at"),
                                      output_field=TextField()),
                        due_at=ExpressionWrapper(F("stage_entered_at") + (F("stage__stale_after_days") + 1) * one_day,
                                                 output_field=DateTimeField()),
                        subject=F("name"),
                        data=JSONObject(stage=F("stage__name"), days=F("stage__stale_after_days"))))

    def message(self, n):
        days = n.data.get("days") or 0
        return ngettext("%(deal)s has been in %(stage)s for more than %(days)s day",
                        "%(deal)s has been in %(stage)s for more than %(days)s days", days) % {
            "deal": n.subject, "stage": n.data.get("stage", ""), "days": days}

    def group_message(self, n, count):
        return ngettext("%(n)s deal has stayed too long in its stage", "%(n)s deals have stayed too long in their stage",
                        count) % {"n": count}


@register
class CloseDatePassed(DealRule):
    key = "close_date_passed"
    label = gettext_lazy("Expected close date passed")
    help_text = gettext_lazy("An open deal's expected close date has passed: to the owner.")

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

    def group_message(self, n, count):
        return ngettext("%(n)s open deal is past its expected close date",
                        "%(n)s open deals are past their expected close date", count) % {"n": count}


@register
class QuoteWaiting(Rule):
    """A quote's approval has waited more than N hours: to its approver, or to every active holder
    of the approver role; never to whoever submitted the quote or set its prices (they may not
    approve it: the approvals inbox's rule)."""

    key = "quote_approval_waiting"
    label = gettext_lazy("Quote waiting for approval")
    help_text = gettext_lazy("A quote has waited for approval more than N hours: to the approver "
                             "(or everyone holding the approver role).")
    model = "sales.QuoteApproval"
    defaults = {"hours": 24}

    def rule_fields(self):
        from crm.lib import inputs

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
        WHERE a.decision = 'pending' AND a.requested_at < %(now)s - make_interval(hours => %(hours)s)
          AND u.id IS DISTINCT FROM q.submitted_by_id AND NOT (u.id = ANY(q.priced_by))"""

    def message(self, n):
        return _("Quote %(quote)s has waited for your approval since %(when)s") % {
            "quote": n.subject, "when": local(n.data_time("requested_at"))}

    def group_message(self, n, count):
        return ngettext("%(n)s quote is waiting for your approval", "%(n)s quotes are waiting for your approval",
                        count) % {"n": count}

    def target_url(self, record):
        return reverse("sales:quote_detail", args=[record.quote_id])

    def group_url(self, notification):
        return reverse("sales:approval_inbox")  # exactly the approvals the reader may decide


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

    def group_message(self, n, count):
        return ngettext("%(n)s instalment is overdue", "%(n)s instalments are overdue", count) % {"n": count}

    def target_url(self, record):
        return reverse("sales:contract_detail", args=[record.contract_id])

    def group_url(self, notification):
        return list_url("sales:contract_list", overdue=1)  # the contracts with an overdue instalment
