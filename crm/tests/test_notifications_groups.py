"""Grouped reminders: more than a rule's `group_over` items for one person in one scan arrive as one
notification that says how many and opens the list of exactly those records; raised once, counted
down and resolved with its records, shown as one in the bell, the centre, the digest and My day."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from crm import services
from crm.models import Customer, EmailDelivery, Notification, NotificationPreference, NotificationRule
from crm.notifications import RULES
from crm.selectors import notifications_unread_count
from crm.selectors.notifications import digest_for, with_texts
from crm.tests.factories import CustomerFactory, choice
from crm.tests.notification_builders import ago, raised, scan

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def silent(owner, n, *, tier="B", days=10, name="久未跟进"):
    """n customers of `owner` not followed up for `days` days (B: over its 7, under its 14 for the manager)."""
    return [CustomerFactory(owner=owner, tier=tier, name=f"{name}{i}", last_followup_at=ago(days=days))
            for i in range(n)]


def groups(rule="not_followed_up", **filters):
    return raised(rule, is_group=True, **filters)


def text_of(notification, user, language):
    with translation.override(language):
        return with_texts([Notification.objects.get(pk=notification.pk)], user)[0].text


def test_exactly_the_threshold_stays_single_and_one_more_is_one_group(rep_east, rep_east2):
    silent(rep_east, 5)
    silent(rep_east2, 6, name="乙")
    result = scan(keys={"not_followed_up"})["not_followed_up"]

    assert (result["raised"], result["groups"]) == (11, 1)
    assert raised("not_followed_up", recipient=rep_east, is_group=False, group=None).count() == 5
    assert not groups(recipient=rep_east).exists()
    group = groups(recipient=rep_east2).get()
    assert set(group.members.values_list("object_id", flat=True)) == set(
        Customer.objects.filter(owner=rep_east2).values_list("pk", flat=True))
    assert (group.data["count"], group.data["open"]) == (6, 6)
    assert notifications_unread_count(rep_east) == 5
    assert notifications_unread_count(rep_east2) == 1


def test_the_group_says_how_many_in_both_languages(rep_east):
    silent(rep_east, 18)
    scan(keys={"not_followed_up"})
    group = groups(recipient=rep_east).get()
    assert text_of(group, rep_east, "zh-hans") == "18 位客户超过 7 天未跟进"
    assert text_of(group, rep_east, "en") == "18 customers not followed up for 7 days"


def test_a_scan_run_twice_raises_the_group_once(rep_east, manager_east):
    silent(rep_east, 8, days=15)  # over B's 7 for the owner and over its 14 for the manager
    first = scan(keys={"not_followed_up"})["not_followed_up"]
    second = scan(keys={"not_followed_up"})["not_followed_up"]

    assert (first["raised"], first["groups"]) == (16, 2)
    assert (second["raised"], second["groups"], second["resolved"]) == (0, 0, 0)
    assert groups().count() == 2
    assert groups(recipient=manager_east).get().data["escalation"] is True
    rows = Notification.objects.values_list("rule", "recipient_id", "object_id", "period")
    assert len(set(rows)) == len(rows)


def test_one_group_per_rule_and_person_says_the_shortest_limit_all_of_them_passed(rep_east, manager_east):
    silent(rep_east, 3, tier="A", days=20, name="甲")  # over A's 3 days, and A's 7 for the manager
    silent(rep_east, 4, tier="B", days=20, name="乙")  # over B's 7, and B's 14 for the manager
    scan(keys={"not_followed_up"})
    mine, managers = groups(recipient=rep_east).get(), groups(recipient=manager_east).get()
    assert (mine.data["count"], managers.data["count"]) == (7, 7)
    assert text_of(mine, rep_east, "zh-hans") == "7 位客户超过 3 天未跟进"
    assert text_of(managers, manager_east, "en") == "7 customers of your team not followed up for 7 days"


def test_new_items_of_a_later_scan_arrive_by_themselves_or_as_a_new_group(rep_east):
    silent(rep_east, 6)
    scan(keys={"not_followed_up"})
    silent(rep_east, 2, name="新")
    assert scan(keys={"not_followed_up"})["not_followed_up"]["groups"] == 0
    assert notifications_unread_count(rep_east) == 3  # the group and the two new ones


def test_the_group_counts_down_and_resolves_with_its_records(rep_east):
    customers = silent(rep_east, 7)
    scan(keys={"not_followed_up"})
    group = groups().get()
    call = choice("followup_kind", "call")
    for customer in customers[:2]:
        services.followup_log(customer=customer, by=rep_east, kind=call, summary="已联系")

    result = scan(keys={"not_followed_up"})["not_followed_up"]
    assert (result["resolved"], result["groups_resolved"]) == (2, 0)
    group.refresh_from_db()
    assert (group.data["open"], group.resolved_at) == (5, None)
    assert text_of(group, rep_east, "en") == "5 customers not followed up for 7 days"
    assert notifications_unread_count(rep_east) == 1

    for customer in customers[2:]:
        services.followup_log(customer=customer, by=rep_east, kind=call, summary="已联系")
    assert scan(keys={"not_followed_up"})["not_followed_up"]["groups_resolved"] == 1
    group.refresh_from_db()
    assert group.resolved_at is not None and notifications_unread_count(rep_east) == 0


def test_the_link_lists_exactly_the_groups_customers_the_reader_may_see(client_for, rep_east, rep_east2, rep_west):
    grouped = silent(rep_east, 6)
    silent(rep_east, 1, days=2, name="别的")  # rep_east's, followed up lately: not in the group
    CustomerFactory(owner=rep_east, name="另一提醒0", next_followup_at=ago(hours=1))  # another rule's reminder
    scan()
    group = groups(recipient=rep_east).get()
    # Moved to the north before the next scan: out of rep_east's sight, so off the list and the count.
    moved = grouped[0]
    Customer.objects.filter(pk=moved.pk).update(owner=rep_west, team=rep_west.team)

    client = client_for(rep_east)
    response = client.get(reverse("notifications:open", args=[group.pk]))
    assert response.status_code == 302 and f"reminder={group.pk}" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    shown = {c.name for c in Customer.objects.all() if c.name in page}
    assert shown == {c.name for c in grouped[1:]}
    assert 'data-testid="reminder-filter"' in page
    assert text_of(group, rep_east, "en").startswith("5 customers")

    # Someone else's group: an empty list, never their records.
    other = client_for(rep_east2).get(response["Location"]).content.decode()
    assert not any(c.name in other for c in grouped)


def test_the_deal_list_link_of_a_group_of_stale_deals(client_for, rep_east):
    from crm.tests.notification_builders import deal, stage

    review = stage(stale_after_days=10)
    customer = CustomerFactory(owner=rep_east)
    stale = [deal(customer, rep_east, stage_=review, entered=ago(days=20), name=f"久滞商机{i}") for i in range(6)]
    deal(customer, rep_east, stage_=review, entered=ago(days=1), name="新鲜商机")
    scan(keys={"opportunity_stale"})
    group = groups("opportunity_stale").get()
    client = client_for(rep_east)
    page = client.get(client.get(reverse("notifications:open", args=[group.pk]))["Location"]).content.decode()
    assert all(d.name in page for d in stale) and "新鲜商机" not in page


def test_one_e_mail_for_the_group_none_for_its_items(rep_east):
    NotificationPreference.objects.create(user=rep_east, rule="not_followed_up", in_app=True, email=True)
    silent(rep_east, 6)
    assert scan(keys={"not_followed_up"})["not_followed_up"]["emails"] == 1
    assert EmailDelivery.objects.get().notification.is_group


def test_the_centre_the_digest_and_my_day_show_the_group_as_one(client_for, rep_east):
    silent(rep_east, 9)
    CustomerFactory(owner=rep_east, name="单个提醒", next_followup_at=ago(hours=1))
    scan()
    group = groups().get()
    page = client_for(rep_east).get(reverse("notifications:list")).content.decode()
    assert page.count('data-testid="notification"') == 2 and f'data-pk="{group.pk}"' in page

    digest = digest_for(rep_east)
    assert digest["reminders_count"] == 2
    assert {n.pk for n in digest["reminders"]} == {group.pk, raised("followup_due").get().pk}

    my_day = client_for(rep_east).get(reverse("crm:my_day")).content.decode()
    assert reverse("notifications:day") in my_day  # its card loads by htmx
    card = client_for(rep_east).get(reverse("notifications:day")).content.decode()
    assert card.count('data-testid="my-day-reminder"') == 2 and f'data-pk="{group.pk}"' in card


def test_reading_the_group_reads_its_items(rep_east):
    silent(rep_east, 6)
    scan(keys={"not_followed_up"})
    group = groups().get()
    services.notification_mark_read(notification=group, by=rep_east)
    assert not raised("not_followed_up", read_at=None).exists()


def test_an_admin_sets_the_threshold_with_the_rules_settings(client_for, admin, rep_east):
    page = client_for(admin).get(reverse("settings:reminders:rule_edit", args=["not_followed_up"]))
    assert 'name="group_over"' in page.content.decode()
    params = {**RULES["not_followed_up"].defaults, "group_over": 2}
    services.notification_rule_save(by=admin, key="not_followed_up", is_active=True, params=params)
    silent(rep_east, 3)
    assert scan(keys={"not_followed_up"})["not_followed_up"]["groups"] == 1
    # A setting not given keeps its value; one the rule does not have is refused.
    services.notification_rule_save(by=admin, key="not_followed_up", is_active=True, params={"days_a": 4})
    assert NotificationRule.objects.get(key="not_followed_up").params == {**params, "days_a": 4}
    with pytest.raises(ValidationError):
        services.notification_rule_save(by=admin, key="not_followed_up", is_active=True, params={"nonsense": 1})


def test_the_bell_and_the_centre_keep_their_query_counts_with_groups(client_for, rep_east, django_assert_max_num_queries):
    client = client_for(rep_east)
    silent(rep_east, 6)
    scan(keys={"not_followed_up"})
    client.get(reverse("notifications:bell"))
    with django_assert_max_num_queries(5):
        assert b'data-testid="bell-count">1<' in client.get(reverse("notifications:bell")).content
    with django_assert_max_num_queries(6) as few:  # as many as with single ones: a group is counted in the list's query
        client.get(reverse("notifications:list"))
    silent(rep_east, 12, tier="C", days=40, name="丙")
    scan(keys={"not_followed_up"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("notifications:list")).status_code == 200


def test_a_rule_switched_off_resolves_its_groups(rep_east, admin):
    silent(rep_east, 6)
    scan(keys={"not_followed_up"})
    services.notification_rule_save(by=admin, key="not_followed_up", is_active=False, params={})
    result = scan(keys={"not_followed_up"})["not_followed_up"]
    assert (result["resolved"], result["groups_resolved"]) == (6, 1)
    assert notifications_unread_count(rep_east) == 0
