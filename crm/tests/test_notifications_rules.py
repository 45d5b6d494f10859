"""The reminder rules, each run by the scan as one statement: who is reminded of what, once per
period, and the reminder stops when its reason is gone."""
import pytest
from django.utils import timezone, translation

from crm import services
from crm.models import Customer, EmailDelivery, Notification, NotificationPreference, NotificationRule, Pool
from crm.notifications import RULES
from crm.selectors import notifications_unread_count
from crm.tests.factories import CustomerFactory, choice
from crm.tests.notification_builders import ago, deal, overdue_instalment, pending_approval, raised, scan, stage

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def test_it_reminds_the_owner_once_of_a_follow_up_that_has_come_due(rep_east, rep_west):
    customer = CustomerFactory(owner=rep_east, next_followup_at=ago(minutes=5))
    CustomerFactory(owner=rep_east, next_followup_at=timezone.now() + timezone.timedelta(hours=1))
    CustomerFactory(owner=rep_west, next_followup_at=ago(days=1), archived_at=timezone.now())

    assert scan()["followup_due"]["raised"] == 1
    assert scan()["followup_due"]["raised"] == 0
    only = raised("followup_due").get()
    assert (only.recipient, only.object_id, only.subject) == (rep_east, customer.pk, customer.name)
    assert notifications_unread_count(rep_east) == 1 and notifications_unread_count(rep_west) == 0


def test_a_rescheduled_follow_up_is_a_new_period(rep_east):
    customer = CustomerFactory(owner=rep_east, next_followup_at=ago(days=2))
    scan()
    Customer.objects.filter(pk=customer.pk).update(next_followup_at=ago(minutes=1))
    result = scan()["followup_due"]
    assert (result["raised"], result["resolved"]) == (1, 1)  # the old one stops, the new one fires
    assert raised("followup_due").count() == 2


def test_the_reminder_stops_when_the_follow_up_is_logged(rep_east):
    customer = CustomerFactory(owner=rep_east, next_followup_at=ago(hours=1), tier="A")
    scan()
    assert notifications_unread_count(rep_east) == 1
    services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "call"), summary="已联系")

    assert scan()["followup_due"]["resolved"] == 1
    assert notifications_unread_count(rep_east) == 0
    assert raised("followup_due").get().resolved_at is not None


def test_not_followed_up_counts_days_by_tier_and_escalates_to_the_manager(rep_east, manager_east):
    a_4 = CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=4))  # over A's 3 days
    CustomerFactory(owner=rep_east, tier="B", last_followup_at=ago(days=4))  # under B's 7
    # A fixed name: a factory name (客户561有限公司) could hold "61" and fail the last line by chance.
    c_61 = CustomerFactory(owner=rep_east, tier="C", last_followup_at=ago(days=61), name="久未跟进的丙类客户")
    CustomerFactory(owner=rep_east, tier="A", claimed_at=ago(days=2), last_followup_at=None)

    scan()
    mine = set(raised("not_followed_up", recipient=rep_east).values_list("object_id", flat=True))
    managers = set(raised("not_followed_up", recipient=manager_east).values_list("object_id", flat=True))
    assert mine == {a_4.pk, c_61.pk}
    assert managers == {c_61.pk}
    escalation = raised("not_followed_up", recipient=manager_east).get()
    assert escalation.data["escalation"] is True and escalation.data["days"] == 60
    assert "61" not in RULES["not_followed_up"].message(escalation)  # it says the limit, not a guess


def test_english_reminder_texts_use_plural_forms(rep_east, admin, manager_east):
    params = {**RULES["not_followed_up"].defaults, "days_a": 1, "escalate_a": 1}
    services.notification_rule_save(by=admin, key="not_followed_up", is_active=True, params=params)
    CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=2), name="一天客户")
    CustomerFactory(owner=rep_east, tier="B", last_followup_at=ago(days=9), name="七天客户")
    scan(keys={"not_followed_up"})
    with translation.override("en"):
        said = {(n.subject, n.recipient_id): RULES["not_followed_up"].message(n) for n in raised("not_followed_up")}
    assert "no follow-up for 1 day (since" in said[("一天客户", rep_east.pk)]
    assert "no follow-up for 1 day (since" in said[("一天客户", manager_east.pk)]
    assert "no follow-up for 7 days (since" in said[("七天客户", rep_east.pk)]
    assert not any("1 days" in text for text in said.values())


def test_rule_parameters_from_the_settings_apply(rep_east, admin):
    customer = CustomerFactory(owner=rep_east, tier="B", last_followup_at=ago(days=2))
    params = {**RULES["not_followed_up"].defaults, "days_b": 1}
    services.notification_rule_save(by=admin, key="not_followed_up", is_active=True, params=params)
    scan()
    assert raised("not_followed_up", recipient=rep_east).get().object_id == customer.pk


def test_a_rule_switched_off_raises_nothing_and_its_reminders_stop(rep_east, admin):
    CustomerFactory(owner=rep_east, next_followup_at=ago(hours=1))
    scan()
    services.notification_rule_save(by=admin, key="followup_due", is_active=False, params={})
    result = scan()["followup_due"]
    assert (result["raised"], result["resolved"]) == (0, 1)
    assert notifications_unread_count(rep_east) == 0
    assert NotificationRule.objects.get(key="followup_due").updated_by == admin


def test_only_admins_change_rules(rep_east):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.notification_rule_save(by=rep_east, key="followup_due", is_active=False, params={})


def test_the_dashboard_and_the_reminder_agree_on_a_stale_deal_at_the_boundary(rep_east, manager_east, director):
    """One rule (OpportunityQuerySet.stale) for the dashboard's figure and the reminder: a deal exactly
    stale_after_days + 1 days in its stage counts in both, one a second younger in neither."""
    import datetime

    from reports.forms import Period
    from reports.selectors import DashboardScope, dashboard

    now = timezone.now().replace(microsecond=0)
    review = stage(stale_after_days=10)
    customer = CustomerFactory(owner=rep_east)
    limit = now - datetime.timedelta(days=11)
    on_the_day = deal(customer, rep_east, stage_=review, entered=limit, name="刚好过期")
    deal(customer, rep_east, stage_=review, entered=limit + datetime.timedelta(seconds=1), name="差一秒")

    scan(keys={"opportunity_stale"}, now=now)
    reminded = set(raised("opportunity_stale").values_list("object_id", flat=True))
    today = timezone.localdate(now)
    figures = dashboard(DashboardScope(user=director, period=Period(today, today), now=now))
    assert reminded == {on_the_day.pk}
    assert figures["stale"]["count"] == len(reminded) == 1


def test_a_stale_deal_is_counted_as_the_board_counts_it(rep_east):
    customer = CustomerFactory(owner=rep_east)
    review = stage(stale_after_days=10)
    stale = deal(customer, rep_east, stage_=review, entered=ago(days=11, minutes=1))
    fresh = deal(customer, rep_east, stage_=review, entered=ago(days=10, hours=12), name="不算")
    deal(customer, rep_east, stage_=review, entered=ago(days=40), closed=True, name="已关闭")

    scan()
    assert list(raised("opportunity_stale").values_list("object_id", flat=True)) == [stale.pk]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.is_stale and not fresh.is_stale


def test_an_open_deal_past_its_expected_close_date(rep_east):
    customer = CustomerFactory(owner=rep_east)
    late = deal(customer, rep_east, expected_close=timezone.localdate() - timezone.timedelta(days=1))
    deal(customer, rep_east, expected_close=timezone.localdate(), name="今天")
    deal(customer, rep_east, expected_close=timezone.localdate() - timezone.timedelta(days=9), closed=True, name="关")
    scan()
    assert list(raised("close_date_passed").values_list("object_id", flat=True)) == [late.pk]


def test_the_pool_warning_follows_the_pool_rules(rep_east, teams):
    pool = Pool.objects.create(name="华东公海", idle_days_a=10, idle_days_b=None, idle_days_c=None)
    pool.teams.set([teams["east"]])
    soon = CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=8))  # returns in 2 days
    CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=5))  # in 5: not yet
    CustomerFactory(owner=rep_east, tier="B", last_followup_at=ago(days=300))  # no rule for B
    CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=9), locked=True)  # exempt

    scan(keys={"pool_warning"})
    warning = raised("pool_warning").get()
    assert warning.object_id == soon.pk and warning.data["pool"] == "华东公海"
    # The pool's own nightly job agrees: in 3 days it would return exactly this customer.
    assert Customer.objects.filter(pk=soon.pk).exists()
    counts = services.pool_rules_apply(now=timezone.now() + timezone.timedelta(days=3))
    assert counts["idle"] == 1 and Customer.objects.get(pk=soon.pk).owner_id is None


def test_the_pool_warning_says_when_and_never_names_a_time_gone_by(rep_east, teams):
    pool = Pool.objects.create(name="华东公海", idle_days_a=10, idle_days_b=None, idle_days_c=None)
    pool.teams.set([teams["east"]])
    soon = CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=8), name="两天后退回")
    late = CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=12), name="今晚退回")
    scan(keys={"pool_warning"})
    with translation.override("en"):
        said = {n.object_id: RULES["pool_warning"].message(n) for n in raised("pool_warning")}
    assert " on " in said[soon.pk] and "next pool run" not in said[soon.pk]
    assert "next pool run" in said[late.pk] and " on " not in said[late.pk]


def test_a_quote_waiting_for_approval_goes_to_the_approver_or_every_holder_of_the_role(
        rep_east, manager_east, director, roles):
    customer = CustomerFactory(owner=rep_east)
    opportunity = deal(customer, rep_east)
    to_manager = pending_approval(opportunity, approver=manager_east, number="Q-1")
    to_role = pending_approval(opportunity, role=roles["销售总监"], number="Q-2")
    pending_approval(opportunity, approver=manager_east, hours_ago=2, number="Q-3")  # not yet 24 hours

    scan()
    pairs = set(raised("quote_approval_waiting").values_list("recipient__username", "object_id"))
    assert pairs == {("manager_east", to_manager.pk), ("director", to_role.pk)}


def test_a_quote_waiting_never_reminds_who_may_not_approve_it(rep_east, manager_east, director, roles):
    """Whoever submitted the quote or set its prices never approves it (sales' rule, the approvals
    inbox's): routed to them by name or by a role they hold, they get no reminder either."""
    from sales.models import Quote

    opportunity = deal(CustomerFactory(owner=rep_east), rep_east)
    submitted = pending_approval(opportunity, approver=manager_east, number="Q-S")
    priced = pending_approval(opportunity, role=roles["销售总监"], number="Q-P")
    fine = pending_approval(opportunity, approver=manager_east, number="Q-OK")
    Quote.objects.filter(pk=submitted.quote_id).update(submitted_by=manager_east)
    Quote.objects.filter(pk=priced.quote_id).update(priced_by=[director.pk])

    scan(keys={"quote_approval_waiting"})
    assert set(raised("quote_approval_waiting").values_list("recipient__username", "object_id")) == {
        ("manager_east", fine.pk)}


def test_an_overdue_instalment_reminds_the_deal_owner(rep_east):
    instalment = overdue_instalment(deal(CustomerFactory(owner=rep_east), rep_east))
    scan()
    assert raised("instalment_overdue").get().object_id == instalment.pk
    type(instalment).objects.filter(pk=instalment.pk).update(status="paid")
    assert scan()["instalment_overdue"]["resolved"] == 1


def test_an_e_mail_is_queued_once_for_those_who_want_it(rep_east, rep_east2):
    NotificationPreference.objects.create(user=rep_east, rule="followup_due", in_app=True, email=True)
    CustomerFactory(owner=rep_east, next_followup_at=ago(hours=1))
    CustomerFactory(owner=rep_east2, next_followup_at=ago(hours=1))
    assert scan()["followup_due"]["emails"] == 1
    scan()
    assert EmailDelivery.objects.get().user == rep_east


def test_a_rule_muted_in_the_app_is_not_counted(rep_east):
    CustomerFactory(owner=rep_east, next_followup_at=ago(hours=1))
    scan()
    services.notification_preferences_save(user=rep_east, choices={"followup_due": (False, False)})
    assert notifications_unread_count(rep_east) == 0


def test_each_app_registers_its_own_rules_and_the_engine_names_no_other_apps_table():
    """crm's rules in crm/reminders.py, sales' in sales/reminders.py, found at start-up like admin.py."""
    from pathlib import Path

    import crm.notifications

    assert {key: type(rule).__module__ for key, rule in RULES.items()} == {
        "followup_due": "crm.reminders", "not_followed_up": "crm.reminders", "pool_warning": "crm.reminders",
        "opportunity_stale": "sales.reminders", "close_date_passed": "sales.reminders",
        "quote_approval_waiting": "sales.reminders", "instalment_overdue": "sales.reminders",
        "ticket_sla_warning": "service.reminders", "ticket_sla_breached": "service.reminders",
        "ticket_sla_escalated": "service.reminders", "survey_low_score": "service.reminders"}
    engine = "".join(path.read_text() for path in Path(crm.notifications.__file__).parent.glob("*.py"))
    assert "sales" not in engine and "crm_customer" not in engine and "service_ticket" not in engine


def test_every_rule_of_the_registry_runs(rep_east):
    assert set(scan()) == set(RULES)
    assert NotificationRule.objects.count() == len(RULES)


def test_a_rule_that_raised_many_refreshes_the_tables_statistics(rep_east, monkeypatch):
    """So that the next scan does not plan its anti-join for an empty table (ANALYZE_AFTER, 10,000)."""
    from django.db import connection

    from crm.services import notifications as engine

    monkeypatch.setattr(engine, "ANALYZE_AFTER", 3)
    for hours in (1, 2, 3):
        CustomerFactory(owner=rep_east, next_followup_at=ago(hours=hours))
    scan(keys={"followup_due"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'crm_notification'")
        assert cursor.fetchone()[0] == Notification.objects.count() == 3


def test_a_scan_spreads_its_rules_over_its_processes_by_weight():
    from crm.services.notifications import _spread

    shares = _spread(list(RULES), 2)
    assert sorted(key for share in shares for key in share) == sorted(RULES)  # each rule once
    heaviest = max(RULES, key=lambda key: RULES[key].weight)
    alone = next(share for share in shares if heaviest in share)
    loads = [sum(RULES[key].weight for key in share) for share in shares]
    assert alone[0] == heaviest and max(loads) - min(loads) <= RULES[heaviest].weight


def test_old_read_or_resolved_notifications_are_deleted_and_open_ones_stay(rep_east):
    CustomerFactory(owner=rep_east, next_followup_at=ago(hours=1))
    CustomerFactory(owner=rep_east, next_followup_at=ago(hours=2))
    CustomerFactory(owner=rep_east, next_followup_at=ago(hours=3))
    scan(keys={"followup_due"})
    read, resolved, still_open = raised("followup_due").order_by("pk")
    Notification.objects.filter(pk=read.pk).update(read_at=ago(days=100))
    Notification.objects.filter(pk=resolved.pk).update(resolved_at=ago(days=100))
    Notification.objects.filter(pk=still_open.pk).update(created_at=ago(days=400))
    assert services.notifications_expire() == 2
    assert list(Notification.objects.values_list("pk", flat=True)) == [still_open.pk]
    assert services.notifications_expire() == 0
