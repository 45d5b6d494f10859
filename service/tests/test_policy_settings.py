"""The SLA policies and ticket types in the settings area (/settings/service/): an admin adds a policy
(it goes last), moves it up so that it is tried first, edits and deletes it; working days must be
whole; ticket types are kept as a picklist. Only holders of service.settings:manage get in (the
settings grid in tests/test_settings_area.py walks every URL, GET and POST)."""
import pytest
from django.urls import reverse

from service.models import SlaPolicy, TicketType
from service.seed import seed_service_desk
from service.selectors import sla_policy_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seeded():
    seed_service_desk(TicketType, SlaPolicy)


def policy_form(**extra):
    return {"name": "微信渠道", "is_active": "on", "calendar": "", "channels": ["wechat"], "first_response": "1",
            "first_response_unit": "working_hours", "resolution": "2", "resolution_unit": "working_days",
            "warn_remaining_percent": "25", **extra}


def names():
    return list(SlaPolicy.objects.order_by("order", "id").values_list("name", flat=True))


def test_an_admin_adds_a_policy_and_moves_it_up_to_be_tried_first(client_for, admin):
    client = client_for(admin)
    response = client.post(reverse("settings:service:sla_policy_create"), policy_form())
    assert response.status_code == 302
    assert names() == ["A 类客户", "投诉", "紧急工单", "标准服务", "微信渠道"]
    wechat = SlaPolicy.objects.get(name="微信渠道")
    assert (wechat.channels, wechat.tiers, wechat.resolution_unit) == (["wechat"], [], "working_days")
    assert sla_policy_for(tier="B", priority="normal", type_id=None, channel="wechat").name == "标准服务"
    for _ in range(2):
        client.post(reverse("settings:service:sla_policy_move", args=[wechat.pk]), {"direction": "up"})
    assert names() == ["A 类客户", "投诉", "微信渠道", "紧急工单", "标准服务"]
    assert sla_policy_for(tier="B", priority="normal", type_id=None, channel="wechat").name == "微信渠道"
    page = client.get(reverse("settings:service:sla_policies")).content.decode()
    assert page.index("微信渠道") < page.index("紧急工单") and "微信" in page


def test_a_policy_is_edited_and_deleted(client_for, admin):
    client = client_for(admin)
    policy = SlaPolicy.objects.get(name="A 类客户")
    complaint = TicketType.objects.get(name="投诉")
    response = client.post(reverse("settings:service:sla_policy_edit", args=[policy.pk]), policy_form(
        name="A 类客户投诉", tiers=["A"], channels=[], types=[complaint.pk], first_response="0.5"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.tiers, str(policy.first_response)) == ("A 类客户投诉", ["A"], "0.50")
    assert list(policy.types.all()) == [complaint]
    client.post(reverse("settings:service:sla_policy_delete", args=[policy.pk]))
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()


@pytest.mark.parametrize("extra, message", [
    ({"resolution": "1.5"}, "工作日须为整数"),
    ({"first_response": "-1"}, "大于或等于"),
    ({"name": "投诉"}, "已存在"),
])
def test_a_policy_it_cannot_keep_is_refused_and_nothing_is_written(client_for, admin, extra, message):
    response = client_for(admin).post(reverse("settings:service:sla_policy_create"), policy_form(**extra))
    assert response.status_code == 200 and message in response.content.decode()
    assert len(names()) == 4


def test_ticket_types_are_a_picklist_admins_keep(client_for, admin):
    client = client_for(admin)
    response = client.post(reverse("settings:service:ticket_type_create"),
                           {"name": "安装", "name_en": "Installation", "order": "60", "is_active": "on"})
    assert response.status_code == 302
    installation = TicketType.objects.get(name="安装")
    client.post(reverse("settings:service:ticket_type_edit", args=[installation.pk]),
                {"name": "安装调试", "name_en": "Installation", "order": "60"}, follow=True)
    installation.refresh_from_db()
    assert installation.name == "安装调试" and not installation.is_active
    # An inactive type is not offered to a new policy.
    page = client.get(reverse("settings:service:sla_policy_create")).content.decode()
    assert "安装调试" not in page and "咨询" in page
    assert "安装调试" in client.get(reverse("settings:service:ticket_types")).content.decode()
    response = client.post(reverse("settings:service:ticket_type_create"), {"name": "咨询", "order": "1"})
    assert response.status_code == 200 and TicketType.objects.filter(name="咨询").count() == 1


def test_the_lists_keep_to_a_few_queries(client_for, admin, django_assert_max_num_queries):
    client = client_for(admin)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("settings:service:sla_policies")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("settings:service:ticket_types")).status_code == 200


@pytest.mark.parametrize("persona", ["rep_east", "manager_east", "director"])
def test_nobody_without_the_capability_changes_a_policy(client_for, person, persona):
    client = client_for(person(persona))
    policy = SlaPolicy.objects.get(name="A 类客户")
    assert client.post(reverse("settings:service:sla_policy_delete", args=[policy.pk])).status_code == 403
    assert client.post(reverse("settings:service:sla_policy_create"), policy_form()).status_code == 403
    assert SlaPolicy.objects.filter(pk=policy.pk).exists() and len(names()) == 4


def test_the_form_pages_keep_to_a_few_queries(client_for, admin, django_assert_max_num_queries):
    from service.models import CalendarDay, WorkCalendar, WorkWindow
    from service.seed import seed_default_calendar

    calendar = seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    client = client_for(admin)
    pages = [reverse("settings:service:calendar_edit", args=[calendar.pk]),
             reverse("settings:service:sla_policy_edit", args=[SlaPolicy.objects.get(name="投诉").pk]),
             reverse("settings:service:ticket_type_edit", args=[TicketType.objects.first().pk]),
             reverse("settings:service:sla_policy_create"), reverse("settings:service:calendar_create")]
    for url in pages:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200
