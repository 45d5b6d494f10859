"""The service desk's reminder rules, registered with the engine (crm.notifications): an SLA target
about to be missed (the policy's warning), missed (level 1: the agent and the team lead) and missed
for hours (level 2: the manager above the team lead). Level 3, handing the ticket to the team lead, is
a write: `service.services.escalation.tickets_escalate`, run by beat. Each is raised once per ticket and
target (the target is the period), and stops once the ticket is answered, resolved or waiting.

Deadlines and warning times are stored on the ticket (worked out on its working calendar when it
changes), so each rule is one SELECT comparing columns with the clock."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.notifications.rules import Rule, list_url, local, register

# The running target of an open ticket whose clock runs: the first response until it is given.
TARGET = "CASE WHEN t.first_responded_at IS NULL THEN 'first_response' ELSE 'resolution' END"
WARN_AT = "CASE WHEN t.first_responded_at IS NULL THEN t.first_response_warn_at ELSE t.resolution_warn_at END"
RUNNING = "t.status IN ('new', 'open', 'waiting') AND t.due_at IS NOT NULL"
# The team lead of a ticket: the lead of its team, else of the nearest team above that has one.
LEAD = """LEFT JOIN LATERAL (
    SELECT a.lead_id FROM accounts_team tt JOIN accounts_team a ON tt.path LIKE a.path || '%%'
    WHERE tt.id = t.team_id AND a.lead_id IS NOT NULL ORDER BY length(a.path) DESC LIMIT 1) lead ON true"""
SUBJECT = "'#' || t.id::text || ' ' || t.subject"


def serves(user_column):
    """SQL: the user is active and works on tickets (a service scope, or a superuser)."""
    return f"""EXISTS (SELECT 1 FROM accounts_user su WHERE su.id = {user_column} AND su.is_active AND (su.is_superuser
        OR EXISTS (SELECT 1 FROM accounts_user_roles ur JOIN accounts_role ro ON ro.id = ur.role_id
                   WHERE ur.user_id = su.id AND ro.service_scope > 0)))"""


def _data(extra=""):
    return f"jsonb_build_object('target', {TARGET}, 'due_at', t.due_at{extra})"


class TicketRule(Rule):
    model = "service.Ticket"

    def group_url(self, notification):
        return list_url("service:queue", queue="breaching")

    def target_label(self, n):
        return _("first response") if n.data.get("target") == "first_response" else _("resolution")


@register
class TicketSlaWarning(TicketRule):
    key = "ticket_sla_warning"
    label = gettext_lazy("SLA deadline approaching")
    help_text = gettext_lazy("An open ticket has used all but the policy's warning share of its time: to the "
                             "assignee (to the team lead while nobody has it).")

    def due_sql(self):
        return f"""
        SELECT COALESCE(t.assignee_id, lead.lead_id) AS recipient_id, t.id AS object_id, {TARGET} AS period,
               t.due_at, {SUBJECT} AS subject, {_data()} AS data
        FROM service_ticket t {LEAD}
        WHERE {RUNNING} AND t.due_at > %(now)s AND {WARN_AT} <= %(now)s
          AND {serves("COALESCE(t.assignee_id, lead.lead_id)")}"""

    def message(self, n):
        return _("%(ticket)s: the %(target)s is due at %(when)s") % {
            "ticket": n.subject, "target": self.target_label(n), "when": local(n.data_time("due_at"))}

    def group_message(self, n, count):
        return ngettext("%(n)s ticket is close to its SLA deadline", "%(n)s tickets are close to their SLA deadline",
                        count) % {"n": count}


@register
class TicketSlaBreached(TicketRule):
    key = "ticket_sla_breached"
    label = gettext_lazy("SLA deadline missed")
    help_text = gettext_lazy("An open ticket has missed its first-response or resolution deadline: to the assignee "
                             "and the team lead (escalation level 1).")

    def due_sql(self):
        return f"""
        SELECT DISTINCT who.id AS recipient_id, t.id AS object_id, {TARGET} AS period, t.due_at,
               {SUBJECT} AS subject, {_data()} AS data
        FROM service_ticket t {LEAD}
        CROSS JOIN LATERAL (VALUES (t.assignee_id), (lead.lead_id)) AS who(id)
        WHERE {RUNNING} AND t.due_at <= %(now)s AND who.id IS NOT NULL AND {serves("who.id")}"""

    def message(self, n):
        return _("%(ticket)s missed its %(target)s deadline (%(when)s)") % {
            "ticket": n.subject, "target": self.target_label(n), "when": local(n.data_time("due_at"))}

    def group_message(self, n, count):
        return ngettext("%(n)s ticket missed its SLA deadline", "%(n)s tickets missed their SLA deadline",
                        count) % {"n": count}


@register
class TicketSlaEscalated(TicketRule):
    key = "ticket_sla_escalated"
    label = gettext_lazy("SLA deadline missed for hours")
    help_text = gettext_lazy("An open ticket is still past its deadline N hours later: to the manager above the "
                             "team lead (escalation level 2).")
    defaults = {"hours": 4}

    def rule_fields(self):
        from crm.lib import inputs

        return {"hours": inputs.IntegerField(label=_("Hours"), min_value=1, max_value=24 * 30)}

    def due_sql(self):
        return f"""
        SELECT lu.manager_id AS recipient_id, t.id AS object_id, {TARGET} AS period, t.due_at,
               {SUBJECT} AS subject, {_data(", 'hours', %(hours)s")} AS data
        FROM service_ticket t {LEAD}
        JOIN accounts_user lu ON lu.id = lead.lead_id
        WHERE {RUNNING} AND t.due_at <= %(now)s - make_interval(hours => %(hours)s)
          AND lu.manager_id IS NOT NULL AND {serves("lu.manager_id")}"""

    def message(self, n):
        return _("%(ticket)s is more than %(hours)s hours past its %(target)s deadline") % {
            "ticket": n.subject, "hours": n.data.get("hours", ""), "target": self.target_label(n)}

    def group_message(self, n, count):
        return ngettext("%(n)s ticket is hours past its SLA deadline", "%(n)s tickets are hours past their SLA deadline",
                        count) % {"n": count}


@register
class SurveyLowScore(Rule):
    """A customer gave a low score (CSAT 1–2, or NPS 0–6): the team lead follows it up, until someone
    records that on the ticket."""

    key = "survey_low_score"
    label = gettext_lazy("Low satisfaction score")
    help_text = gettext_lazy("A customer rated a ticket 1–2 (or 0–6 for recommending us): to the team lead (the "
                             "assignee when the team has none), until the follow-up is recorded.")
    model = "service.Survey"

    def due_sql(self):
        return f"""
        SELECT COALESCE(lead.lead_id, t.assignee_id) AS recipient_id, s.id AS object_id, s.id::text AS period,
               s.answered_at AS due_at, {SUBJECT} AS subject,
               jsonb_build_object('csat', s.csat, 'nps', s.nps) AS data
        FROM service_survey s JOIN service_ticket t ON t.id = s.ticket_id {LEAD}
        WHERE s.answered_at IS NOT NULL AND s.followed_up_at IS NULL AND (s.csat <= 2 OR s.nps <= 6)
          AND {serves("COALESCE(lead.lead_id, t.assignee_id)")}"""

    def message(self, n):
        return _("%(ticket)s: the customer rated it %(csat)s/5; follow it up") % {
            "ticket": n.subject, "csat": n.data.get("csat", "")}

    def group_message(self, n, count):
        return ngettext("%(n)s low satisfaction score to follow up", "%(n)s low satisfaction scores to follow up",
                        count) % {"n": count}

    def target_url(self, record):
        return record.ticket.get_absolute_url()

    def group_url(self, notification):
        return list_url("service:queue", queue="all")
