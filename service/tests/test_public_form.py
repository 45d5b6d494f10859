"""The public service request form (/support/): a request lands on the customer it belongs to (a
contact's mobile or e-mail first, then the customer's own, then the exact company name, else one
placeholder customer), as an unassigned web ticket; the pages never tell the sender which customer,
or whether any, was found. Bots are kept off by a honeypot, the fill time of a signed timestamp and a
limit per IP address and hour (the real Redis: each test sends from an address of its own)."""
import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from crm.models import Customer
from crm.tests.factories import ContactFactory, CustomerFactory
from service.models import Channel, Ticket, TicketEntry
from service.public import PLACEHOLDER_NAME
from service.public_forms import form_token
from service.selectors import queue_of

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
SHOWN = datetime.datetime(2026, 9, 21, 10, 0, tzinfo=SHANGHAI)  # when the form was opened
URL = "/support/"
SECRET = "绝密华东精密机械有限公司"


@pytest.fixture
def ip():
    """An address no other test (nor an earlier run within the hour) sent from: the limit's counts
    live in Redis, which no test empties."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


@pytest.fixture
def customer(rep_east):
    return CustomerFactory(name=SECRET, owner=rep_east, tier="B")


@pytest.fixture
def send(client, ip, service_desk):
    """send(after=5, **fields): post the form `after` seconds after it was shown, from `ip`."""

    def send_(*, after=5, address=None, **fields):
        with time_machine.travel(SHOWN, tick=False):
            token = form_token()
        data = {"name": "王建国", "company": "", "mobile": "", "email": "", "type": service_desk["故障"].pk,
                "subject": "数控机床开机报警", "description": "今天早上开机即报警 E-21。", "started": token,
                "homepage": "", **fields}
        with time_machine.travel(SHOWN + datetime.timedelta(seconds=after), tick=False):
            return client.post(URL, data, REMOTE_ADDR=address or ip)

    return send_


def errors_of(response):
    return response.context["form"].errors.as_data()


def codes(response, field="__all__"):
    return [error.code for error in errors_of(response).get(field, [])]


# Which customer ----------------------------------------------------------------------------------

def test_it_opens_a_web_ticket_on_the_customer_of_the_contact_with_that_mobile(send, customer, rep_east, rep_west):
    contact = ContactFactory(customer=customer, name="王建国", mobile="+8613812345678")
    # Contact match wins over a customer's own mobile.
    CustomerFactory(name="北方重工有限公司", owner=rep_west, mobile="+8613812345678")
    response = send(mobile="+86 138-1234-5678", company="随便写的公司")
    assert response.status_code == 302 and response["Location"] == reverse("support:thanks")
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.contact, ticket.channel) == (customer, contact, Channel.WEB)
    assert (ticket.assignee, ticket.team, ticket.created_by) == (None, rep_east.team, None)
    assert ticket.subject == "数控机床开机报警" and ticket.first_response_due
    assert "今天早上开机即报警 E-21。" in ticket.description
    assert "王建国" in ticket.description and "随便写的公司" in ticket.description
    assert "138 1234 5678" in ticket.description
    assert TicketEntry.objects.get(ticket=ticket).author_name == "王建国"


def test_it_matches_the_customers_own_email_whatever_its_case(send, customer):
    customer.email = "service@jingmi.cn"
    customer.save()
    send(email="Service@JingMi.CN")
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.contact) == (customer, None)
    assert "service@jingmi.cn" in ticket.description


def test_a_contacts_email_matches_whatever_its_case(send, customer):
    contact = ContactFactory(customer=customer, email="Li.Gong@JingMi.cn")
    send(email="li.gong@jingmi.cn")
    assert Ticket.objects.values_list("customer", "contact").get() == (customer.pk, contact.pk)


def test_it_falls_back_to_the_exact_company_name(send, customer, rep_west):
    # The same name key (the legal form aside), but another name: not this one.
    CustomerFactory(name="绝密华东精密机械股份有限公司", owner=rep_west)
    send(mobile="13900000001", company="绝密华东精密机械有限公司")
    assert Ticket.objects.get().customer == customer


def test_contacts_of_two_customers_are_no_match_and_the_company_name_decides(send, customer, rep_west):
    other = CustomerFactory(name="北方重工有限公司", owner=rep_west)
    ContactFactory(customer=customer, mobile="+8613812345678")
    ContactFactory(customer=other, mobile="+8613812345678")
    send(mobile="13812345678", company="北方重工有限公司")
    assert Ticket.objects.get().customer == other


def test_two_contacts_of_one_customer_give_the_customer_and_the_one_matching_both(send, customer):
    ContactFactory(customer=customer, mobile="+8613812345678")
    both = ContactFactory(customer=customer, mobile="+8613812345678", email="wang@example.com")
    send(mobile="13812345678", email="WANG@example.com")
    send(mobile="13812345678", subject="只给了手机号")
    assert list(Ticket.objects.order_by("pk").values_list("customer", "contact")) == [
        (customer.pk, both.pk), (customer.pk, None)]


def test_two_customers_with_the_same_email_are_no_match(send, customer, rep_west):
    customer.email = "info@example.com"
    customer.save()
    CustomerFactory(name="北方重工有限公司", owner=rep_west, email="info@example.com")
    send(email="info@example.com")
    assert Ticket.objects.get().customer.name == PLACEHOLDER_NAME


def test_archived_and_merged_customers_are_never_matched(send, customer, rep_east):
    from django.utils import timezone

    ContactFactory(customer=customer, mobile="+8613812345678")
    customer.archived_at = timezone.now()
    customer.save()
    send(mobile="13812345678", company=SECRET)
    assert Ticket.objects.get().customer.name == PLACEHOLDER_NAME


def test_an_unmatched_request_goes_to_one_placeholder_customer_in_the_unassigned_queue(send, customer, admin,
                                                                                       agent_sh):
    send(mobile="13700000000", company="没有这家公司")
    send(email="nobody@example.com", subject="第二个请求")
    placeholder = Customer.objects.get(name=PLACEHOLDER_NAME)
    assert (placeholder.kind, placeholder.owner, placeholder.team, placeholder.pool) == ("company", None, None, None)
    tickets = Ticket.objects.order_by("pk")
    assert [t.customer for t in tickets] == [placeholder, placeholder]
    assert all(t.team is None and t.assignee is None for t in tickets)
    assert set(queue_of(admin, "unassigned")) == set(tickets)
    assert not queue_of(agent_sh, "unassigned").exists()


def test_the_request_is_one_transaction(service_desk):
    from django.core.exceptions import ValidationError

    from service.public import web_request_submit

    with pytest.raises(ValidationError):  # refused by ticket_create after the placeholder was made
        web_request_submit(name="王建国", email="nobody@example.com", type=service_desk["故障"], subject=" ",
                           description="…")
    assert not Customer.objects.exists() and not Ticket.objects.exists()


# What the pages show -------------------------------------------------------------------------------

def test_the_thank_you_page_shows_the_reference_and_what_was_typed_but_not_the_customer(client, send, customer):
    ContactFactory(customer=customer, mobile="+8613812345678")
    response = send(mobile="138 1234 5678", email="wang@example.com", company="某公司")
    with time_machine.travel(SHOWN + datetime.timedelta(seconds=10), tick=False):  # the session's lifetime
        text = client.get(response["Location"]).content.decode()
        again = client.get(reverse("support:thanks")).content.decode()
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert f"#{ticket.pk}" in text
    assert "王建国" in text and "138 1234 5678" in text and "wang@example.com" in text and "某公司" in text
    assert "数控机床开机报警" in text and "今天早上开机即报警 E-21。" in text and "故障" in text
    assert SECRET not in text and PLACEHOLDER_NAME not in text
    # Shown once: the next visitor of the page finds nothing of it.
    assert f"#{ticket.pk}" not in again and "王建国" not in again


def test_the_form_is_in_chinese_and_shows_only_the_active_types(client, service_desk, django_assert_max_num_queries):
    service_desk["投诉"].is_active = False
    service_desk["投诉"].save()
    with django_assert_max_num_queries(1):  # the ticket types
        response = client.get(URL)
    text = response.content.decode()
    assert response.status_code == 200 and 'lang="zh-CN"' in text
    assert "故障" in text and "投诉" not in text
    assert 'name="homepage"' in text and 'name="started"' in text
    assert not Ticket.objects.exists() and not Customer.objects.exists()


def test_a_get_never_creates_anything(client, service_desk):
    for url in (URL, reverse("support:thanks"), URL + "?name=x&subject=y&homepage=z"):
        assert client.get(url).status_code == 200
    assert not Ticket.objects.exists() and not Customer.objects.exists()


def test_a_bad_mobile_or_email_is_a_form_error_in_chinese(send):
    response = send(mobile="021-62345678", email="not-an-email")
    assert response.status_code == 422 and not Ticket.objects.exists()
    assert codes(response, "mobile") == ["mobile"] and codes(response, "email") == ["invalid"]
    text = response.content.decode()
    assert "请填写中国大陆手机号，例如 138 1234 5678。" in text
    assert "输入一个有效的 Email 地址。" in text


def test_a_mobile_or_an_email_is_needed(send):
    response = send()
    assert response.status_code == 422 and codes(response, "mobile") == ["no_contact"]
    assert not Ticket.objects.exists()


def test_a_description_over_5000_characters_is_refused(send):
    response = send(email="wang@example.com", description="长" * 5001)
    assert response.status_code == 422 and codes(response, "description") == ["max_length"]


# Bots ---------------------------------------------------------------------------------------------

def test_a_filled_honeypot_is_told_all_went_well_and_nothing_is_created(client, send, customer):
    response = send(email="wang@example.com", homepage="http://spam.example")
    assert response.status_code == 302 and response["Location"] == reverse("support:thanks")
    assert not Ticket.objects.exists() and not Customer.objects.exclude(pk=customer.pk).exists()
    assert client.get(response["Location"]).status_code == 200


def test_a_form_sent_too_quickly_is_shown_again_with_the_reason(send):
    response = send(email="wang@example.com", after=2)
    assert response.status_code == 422 and codes(response) == ["too_fast"] and not Ticket.objects.exists()
    text = response.content.decode()
    assert 'data-testid="form-error"' in text and "王建国" in text  # what was typed stays
    assert send(email="wang@example.com", after=3).status_code == 302


def test_a_bad_or_old_signature_is_refused(send):
    with time_machine.travel(SHOWN, tick=False):
        token = form_token()
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for started in (altered, token.replace(":", ":x", 1), "made-up", ""):
        response = send(email="wang@example.com", started=started)
        assert response.status_code == 422 and codes(response) == ["expired"]
    # More than a day after it was shown: too old.
    response = send(email="wang@example.com", after=24 * 60 * 60 + 1)
    assert response.status_code == 422 and codes(response) == ["expired"]
    assert not Ticket.objects.exists()


def test_past_the_limit_an_address_gets_a_429_and_nothing_is_created(send, settings, ip):
    settings.SERVICE_FORM_PER_IP_HOUR = 2
    for n in range(2):
        assert send(email="wang@example.com", subject=f"请求 {n}").status_code == 302
    refused = send(email="wang@example.com", subject="请求 3")
    assert refused.status_code == 429 and 'data-testid="rate-limited"' in refused.content.decode()
    assert Ticket.objects.count() == 2
    # Another address is counted apart.
    raw = uuid.uuid4().bytes
    assert send(email="wang@example.com", address=f"10.{raw[0]}.{raw[1]}.{raw[2]}").status_code == 302


def test_an_ipv6_subscriber_is_counted_by_its_64_block(send, settings):
    settings.SERVICE_FORM_PER_IP_HOUR = 1
    block = uuid.uuid4().hex[:16]
    prefix = ":".join(block[i:i + 4] for i in range(0, 16, 4))
    assert send(email="wang@example.com", address=f"fd{prefix[2:]}::1").status_code == 302
    assert send(email="wang@example.com", address=f"fd{prefix[2:]}::2").status_code == 429


def test_invalid_forms_do_not_count_against_the_limit(send, settings):
    settings.SERVICE_FORM_PER_IP_HOUR = 1
    for _n in range(3):
        assert send(email="wang@example.com", after=1).status_code == 422
    assert send(email="wang@example.com").status_code == 302
