"""The bell, the notification centre, opening a notification through the access layer, marking read,
preferences, and the admins' pages; with the access grid of every new URL and pinned query counts."""
import pytest
from django.urls import reverse

from conftest import named_routes
from crm.models import Customer, EmailDelivery, Notification, NotificationPreference, NotificationRule
from crm.tests.factories import CustomerFactory
from crm.tests.notification_builders import ago, raised, scan

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def due(rep_east):
    """A follow-up of rep_east's that has come due, and its reminder."""
    CustomerFactory(owner=rep_east, name="上海提醒客户", next_followup_at=ago(hours=1))
    scan()
    return raised("followup_due").get()


def test_the_bell_shows_the_unread_count(client_for, rep_east, due, django_assert_max_num_queries):
    client = client_for(rep_east)
    client.get(reverse("notifications:bell"))  # warms the process's content-type cache (the access layer's)
    # session, user, role, team (the access layer's scope of the user), one count of records in sight
    with django_assert_max_num_queries(5):
        response = client.get(reverse("notifications:bell"))
    assert b'data-testid="bell-count">1<' in response.content
    page = client.get(reverse("crm:customer_list")).content.decode()
    assert reverse("notifications:bell") in page and 'data-testid="bell-slot"' in page


def test_the_centre_lists_filters_and_marks_read(client_for, rep_east, due):
    client = client_for(rep_east)
    response = client.get(reverse("notifications:list"))
    assert response.context["rows"] == [due]
    assert reverse("notifications:open", args=[due.pk]) in response.content.decode()
    assert client.get(reverse("notifications:list"), {"rule": "pool_warning"}).context["rows"] == []

    client.post(reverse("notifications:read", args=[due.pk]))
    due.refresh_from_db()
    assert due.read_at is not None
    assert client.get(reverse("notifications:list")).context["rows"] == []  # unread only by default
    assert client.get(reverse("notifications:list"), {"show": "all"}).context["rows"] == [due]


def test_mark_all_read(client_for, rep_east, due):
    CustomerFactory(owner=rep_east, tier="A", last_followup_at=ago(days=5))
    scan()
    client = client_for(rep_east)
    client.post(reverse("notifications:read_all"), {"rule": "followup_due"})
    assert Notification.objects.filter(recipient=rep_east, read_at__isnull=True).exclude(rule="followup_due").exists()
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(recipient=rep_east, read_at__isnull=True).exists()


def test_opening_marks_read_and_goes_to_the_record(client_for, rep_east, due):
    response = client_for(rep_east).get(reverse("notifications:open", args=[due.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:customer_detail", args=[due.object_id])
    due.refresh_from_db()
    assert due.read_at is not None


def test_a_record_out_of_sight_is_never_shown_and_its_link_is_404(client_for, rep_east, rep_west, teams, due):
    """The customer moves to another team: rep_east keeps the row but must not see or open it."""
    Customer.objects.filter(pk=due.object_id).update(owner=rep_west, team=teams["beijing"])
    client = client_for(rep_east)
    response = client.get(reverse("notifications:list"), {"show": "all"})
    assert response.context["rows"] == []
    assert "上海提醒客户" not in response.content.decode()
    assert client.get(reverse("notifications:open", args=[due.pk])).status_code == 404
    # and the next scan resolves it for rep_east (the rule now names rep_west)
    scan()
    due.refresh_from_db()
    assert due.resolved_at is not None


def test_another_reps_notification_is_404_everywhere(client_for, rep_west, due):
    client = client_for(rep_west)
    assert client.get(reverse("notifications:open", args=[due.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[due.pk])).status_code == 404
    assert client.get(reverse("notifications:list"), {"show": "all"}).context["rows"] == []
    client.post(reverse("notifications:read_all"))
    due.refresh_from_db()
    assert due.read_at is None


NOTIFICATION_URLS = sorted(name for name, _ in named_routes() if name.startswith(("notifications:", "settings:reminders:")))


def _url(name, due):
    args = {"notifications:open": [due.pk], "notifications:read": [due.pk],
            "settings:reminders:rule_edit": ["followup_due"], "settings:reminders:email_retry": [1]}
    return reverse(name, args=args.get(name, []))


@pytest.mark.parametrize("name", NOTIFICATION_URLS)
def test_access_grid_for_another_teams_rep(client_for, rep_west, due, name):
    """Another team's rep: a record-bearing URL is 404, an admin page 403, their own pages show nothing of
    rep_east's."""
    EmailDelivery.objects.create(pk=1, kind="notification", user=due.recipient, notification=due, status="failed",
                                 attempts=5, next_attempt_at=ago(minutes=1), created_at=ago(minutes=5))
    client = client_for(rep_west)
    url = _url(name, due)
    response = client.post(url) if name in {"notifications:read", "notifications:read_all",
                                           "settings:reminders:email_retry"} else client.get(url)
    if name in {"notifications:open", "notifications:read"}:
        assert response.status_code == 404
    elif name.startswith("settings:reminders:"):
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302)
        assert "上海提醒客户" not in response.content.decode()
    due.refresh_from_db()
    assert due.read_at is None


def test_the_admin_pages(client_for, admin, due):
    EmailDelivery.objects.create(kind="notification", user=due.recipient, notification=due, status="failed",
                                 attempts=5, next_attempt_at=ago(minutes=1), created_at=ago(minutes=5),
                                 last_error="SMTPServerDisconnected: down")
    client = client_for(admin)
    page = client.get(reverse("settings:reminders:rules")).content.decode()
    assert 'data-rule="not_followed_up"' in page
    response = client.post(reverse("settings:reminders:rule_edit", args=["not_followed_up"]), {
        "is_active": "on", "days_a": 2, "days_b": 7, "days_c": 30, "escalate_a": 5, "escalate_b": 14,
        "escalate_c": 60, "group_over": 8})
    assert response.status_code == 302
    assert NotificationRule.objects.get(key="not_followed_up").params["days_a"] == 2
    assert NotificationRule.objects.get(key="not_followed_up").params["group_over"] == 8
    bad = client.post(reverse("settings:reminders:rule_edit", args=["not_followed_up"]), {"days_a": 0})
    assert bad.status_code == 200 and bad.context["form"].errors
    failures = client.get(reverse("settings:reminders:failures")).content.decode()
    assert "SMTPServerDisconnected" in failures
    assert "上海提醒客户" not in failures  # the admin is shown the rule, never the record's name
    failed = EmailDelivery.objects.get()
    client.post(reverse("settings:reminders:email_retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)


def test_the_bell_counts_only_records_in_sight(client_for, rep_east, rep_west, teams, due):
    Customer.objects.filter(pk=due.object_id).update(owner=rep_west, team=teams["beijing"])
    response = client_for(rep_east).get(reverse("notifications:bell"))
    assert b'data-testid="bell-count">1<' not in response.content


def _failed_mails(user, count):
    for i in range(count):
        customer = CustomerFactory(owner=user, name=f"失败客户{i}")
        notification = Notification.objects.create(recipient=user, rule="followup_due", object_id=customer.pk,
                                                   period=f"p{i}", due_at=ago(hours=1), subject=customer.name,
                                                   data={}, created_at=ago(hours=1))
        EmailDelivery.objects.create(kind="notification", user=user, notification=notification, status="failed",
                                     attempts=5, next_attempt_at=ago(minutes=1), created_at=ago(minutes=5),
                                     last_error="down")


@pytest.mark.parametrize("name", ["settings:reminders:rules", "settings:reminders:failures", "notifications:preferences"])
def test_the_settings_pages_answer_in_few_queries_whatever_they_hold(client_for, admin, rep_east, name,
                                                                     django_assert_max_num_queries):
    client = client_for(admin)
    counts = []
    for size in (1, 20):
        _failed_mails(rep_east, size)
        NotificationPreference.objects.filter(user=admin).delete()
        NotificationPreference.objects.bulk_create(
            [NotificationPreference(user=admin, rule=rule, in_app=True, email=bool(size % 2))
             for rule in ("followup_due", "not_followed_up", "digest")])
        with django_assert_max_num_queries(12) as queries:
            assert client.get(reverse(name)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_preferences(client_for, rep_east):
    client = client_for(rep_east)
    assert reverse("notifications:preferences") in client.get(reverse("accounts:profile")).content.decode()
    response = client.post(reverse("notifications:preferences"), {
        "followup_due__in_app": "on", "followup_due__email": "on", "digest__email": ""})
    assert response.status_code == 302
    prefs = {p.rule: (p.in_app, p.email) for p in NotificationPreference.objects.filter(user=rep_east)}
    assert prefs["followup_due"] == (True, True)
    assert prefs["not_followed_up"] == (False, False)
    assert prefs["digest"] == (False, False)


@pytest.mark.parametrize("persona", ["rep_east", "director"])
def test_the_centre_answers_in_few_queries_whatever_it_holds(person, client, persona, rep_east, director, roles,
                                                             django_assert_max_num_queries, settings):
    from crm.tests.notification_builders import deal, pending_approval

    settings.NOTIFY_GROUP_OVER = 1000  # one by one: a full page of single reminders

    for i in range(30):
        customer = CustomerFactory(owner=rep_east, tier="A", next_followup_at=ago(hours=1),
                                   last_followup_at=ago(days=9))
        pending_approval(deal(customer, rep_east), role=roles["销售总监"], number=f"Q-{i}")
    scan()
    user = person(persona)
    assert Notification.objects.filter(recipient=user).count() >= 30
    client.force_login(user)
    client.get(reverse("notifications:list"))  # content types cached, as in a running server
    with django_assert_max_num_queries(6):
        response = client.get(reverse("notifications:list"), {"show": "all"})
    assert len(response.context["rows"]) == (30 if persona == "director" else 50)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("notifications:list"), {"show": "all", "before": 10**9}).status_code == 200


def test_the_centre_pages_to_older_reminders_and_stops_at_the_last(client_for, rep_east, settings):
    settings.NOTIFY_GROUP_OVER = 1000  # one by one: pages of single reminders
    for _ in range(30):
        CustomerFactory(owner=rep_east, tier="A", next_followup_at=ago(hours=1), last_followup_at=ago(days=9))
    scan()  # 30 follow-ups due and 30 not followed up: 60 reminders
    client = client_for(rep_east)
    first = client.get(reverse("notifications:list"), {"show": "all"})
    assert len(first.context["rows"]) == 50 and first.context["more_url"]
    second = client.get(reverse("notifications:list") + first.context["more_url"])
    assert len(second.context["rows"]) == 10 and second.context["more_url"] is None
    seen = {row.pk for row in first.context["rows"]} | {row.pk for row in second.context["rows"]}
    assert len(seen) == 60 == Notification.objects.filter(recipient=rep_east).count()
