"""My day: the signed-in rep's customers due today and overdue, in the rep's own time zone."""
import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.models import FollowUp
from crm.selectors import my_day
from crm.tests.factories import ContactFactory, CustomerFactory, FollowUpFactory, choice

pytestmark = pytest.mark.dates

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# 10:00 in Shanghai: "today" runs from 2026-03-10 00:00 to 2026-03-11 00:00 there.
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _at_ten_in_shanghai(time_machine):
    """Every test here runs on 2026-03-10 at 10:00 in Shanghai, the clock ticking from there."""
    time_machine.move_to(NOW, tick=True)


def at(day, hour, minute=0, zone=SHANGHAI):
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=zone)


def due(owner, name, when, **fields):
    return CustomerFactory(owner=owner, name=name, next_followup_at=when, last_followup_at=fields.pop(
        "last", NOW - datetime.timedelta(days=1)), **fields)


def names(rows):
    return [c.name for c in rows]


def test_it_lists_today_and_overdue_of_the_reps_own_customers(rep_east, rep_east2, rep_west):
    due(rep_east, "今天上午", at(10, 9))
    due(rep_east, "今晚", at(10, 23, 30))
    due(rep_east, "昨天", at(9, 15))
    due(rep_east, "上周", at(3, 9))
    due(rep_east, "明天", at(11, 0, 0))
    due(rep_east, "已归档", at(10, 9), archived_at=NOW)
    due(rep_east2, "同事的", at(10, 9))
    due(rep_west, "北京的", at(10, 9))

    day = my_day(rep_east, now=NOW)

    assert names(day["today"]) == ["今天上午", "今晚"]
    assert names(day["overdue"]) == ["上周", "昨天"]
    assert day["counts"]["today"] == 2 and day["counts"]["overdue"] == 2


def test_today_is_the_reps_own_day(rep_east):
    rep_east.time_zone = "America/New_York"
    rep_east.save(update_fields=["time_zone"])
    # 10:00 in Shanghai on the 10th is 22:00 on the 9th in New York.
    due(rep_east, "纽约的今晚", at(9, 23, 0, zoneinfo.ZoneInfo("America/New_York")))
    due(rep_east, "上海的今天", at(10, 18))  # 05:00 on the 10th in New York: tomorrow there
    day = my_day(rep_east, now=NOW)
    assert names(day["today"]) == ["纽约的今晚"]
    assert names(day["overdue"]) == []


def test_it_lists_customers_not_followed_up_for_a_while(rep_east):
    CustomerFactory(owner=rep_east, name="从未跟进")
    CustomerFactory(owner=rep_east, name="很久没跟进", last_followup_at=NOW - datetime.timedelta(days=60))
    CustomerFactory(owner=rep_east, name="刚跟进过", last_followup_at=NOW - datetime.timedelta(days=2))
    due(rep_east, "已有计划", at(20, 9), last=NOW - datetime.timedelta(days=90))
    assert names(my_day(rep_east, now=NOW)["idle"]) == ["从未跟进", "很久没跟进"]


def test_it_counts_the_follow_ups_logged_today(rep_east):
    customer = CustomerFactory(owner=rep_east)
    FollowUpFactory(customer=customer, created_by=rep_east, at=at(10, 8))
    FollowUpFactory(customer=customer, created_by=rep_east, at=at(9, 23))
    assert my_day(rep_east, now=NOW)["counts"]["done"] == 1


def test_it_offers_a_number_to_call(rep_east):
    customer = due(rep_east, "有联系人", at(10, 9), mobile="+8613800001111")
    ContactFactory(customer=customer, name="王芳", mobile="+8613900002222", is_primary=True)
    due(rep_east, "只有座机", at(10, 10), phone="+862162345678")
    rows = my_day(rep_east, now=NOW)["today"]
    assert rows[0].primary_contact.name == "王芳"
    assert rows[0].call == ("+8613900002222", "139 0000 2222")
    assert rows[1].call == ("+862162345678", "021 6234 5678")
    assert (rows[1].call.number, rows[1].call.shown) == ("+862162345678", "021 6234 5678")
    assert [row.user_can_edit for row in rows] == [True, True]  # their own: the 跟进 button shows


def test_the_page_has_a_constant_number_of_queries(client_for, rep_east, django_assert_max_num_queries):
    now = timezone.now()
    client = client_for(rep_east)
    due(rep_east, "今天", now)
    due(rep_east, "过期", now - datetime.timedelta(days=2))
    CustomerFactory(owner=rep_east, name="闲置")
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("crm:my_day"))
    for i in range(15):
        customer = due(rep_east, f"今天{i}", now + datetime.timedelta(minutes=i))
        ContactFactory(customer=customer, is_primary=True, mobile="+8613800001111")
        due(rep_east, f"过期{i}", now - datetime.timedelta(days=i + 2))
        CustomerFactory(owner=rep_east, name=f"闲置{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("crm:my_day"))
    assert response.status_code == 200


def test_the_page_shows_the_lists_with_a_follow_up_button(client_for, rep_east):
    customer = due(rep_east, "今天要联系的客户", timezone.now())
    response = client_for(rep_east).get(reverse("crm:my_day"))
    page = response.content.decode()
    assert "今天要联系的客户" in page
    assert f'hx-get="{reverse("crm:followup_create", args=[customer.pk])}"' in page
    assert page.count(' id="crm-modal"') == 1


def test_an_htmx_refresh_gets_the_lists_only(client_for, rep_east):
    due(rep_east, "今天要联系的客户", timezone.now())
    response = client_for(rep_east).get(reverse("crm:my_day"), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'id="my-day"' in page and "今天要联系的客户" in page and "<html" not in page


def test_logging_a_follow_up_takes_the_customer_off_today(client_for, rep_east):
    customer = due(rep_east, "今天要联系的客户", timezone.now())
    services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "call"), summary="打过了",
                          next_followup_at=timezone.now() + datetime.timedelta(days=7))
    day = my_day(rep_east)
    assert names(day["today"]) == [] and day["counts"]["done"] == 1
    assert FollowUp.objects.count() == 1


def test_nothing_of_another_team_shows(client_for, rep_east, rep_west):
    due(rep_east, "华东的客户", timezone.now())
    due(rep_east, "华东的过期客户", timezone.now() - datetime.timedelta(days=3))
    response = client_for(rep_west).get(reverse("crm:my_day"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "华东的" not in page
    assert response.context["counts"] == {"overdue": 0, "today": 0, "done": 0}


def test_it_is_the_reps_home_and_in_the_navigation(client_for, rep_east):
    client = client_for(rep_east)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("crm:my_day")
    page = client.get(reverse("crm:my_day")).content.decode()
    assert 'data-section="my_day"' in page


@pytest.mark.parametrize("persona", ["director", "manager_east"])
def test_others_who_open_customers_see_it_too(client_for, person, persona):
    response = client_for(person(persona)).get(reverse("crm:my_day"))
    assert response.status_code == 200
