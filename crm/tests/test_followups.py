"""Logging a follow-up: the form in the shared modal, saving over htmx, and who may do it."""
import datetime
import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from crm.models import Customer, CustomerStatus, FollowUp
from crm.selectors import with_edit_flag
from crm.tests.factories import ContactFactory, CustomerFactory, choice

pytestmark = pytest.mark.dates

HTMX = {"HTTP_HX_REQUEST": "true"}


def form_url(customer):
    return reverse("crm:followup_create", args=[customer.pk])


def local_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def customer(rep_east, picklists):
    return CustomerFactory(name="上海华信科技有限公司", owner=rep_east)


def post_data(**overrides):
    now = timezone.now()
    data = {"kind": choice("followup_kind", "call").pk, "summary": "电话沟通，客户想看报价",
            "at": local_input(now), "outcome": "", "next_step": "", "next_followup_at": "", "contact": ""}
    data.update(overrides)
    return data


def test_it_opens_the_form_with_a_call_now_and_the_customers_contacts(client_for, rep_east, customer):
    mine = ContactFactory(customer=customer, name="王经理", is_primary=True)
    ContactFactory(customer=CustomerFactory(owner=rep_east), name="别家的联系人")
    response = client_for(rep_east).get(form_url(customer), **HTMX)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["kind"] == choice("followup_kind", "call").pk
    assert abs(form.initial["at"] - timezone.now()) < datetime.timedelta(minutes=1)
    assert [c.pk for c in form.contacts] == [mine.pk]
    page = response.content.decode()
    assert "<html" not in page
    assert 'data-testid="followup-form"' in page and "王经理" in page and "别家的联系人" not in page
    assert page.count('data-testid="quick-pick"') == 3
    assert 'id="id_kind_0"' in page and "checked" in page


def test_it_offers_quick_picks_at_nine_in_the_users_time_zone(client_for, rep_east, customer):
    response = client_for(rep_east).get(form_url(customer), **HTMX)
    tomorrow = (timezone.localtime() + datetime.timedelta(days=1)).date()
    values = [value for _label, value in response.context["form"].quick_picks]
    assert values[0] == f"{tomorrow:%Y-%m-%d}T09:00"
    assert values[2] == f"{tomorrow + datetime.timedelta(days=6):%Y-%m-%d}T09:00"


def test_it_logs_a_follow_up_and_tells_the_page_over_htmx(client_for, rep_east, customer):
    contact = ContactFactory(customer=customer, name="王经理")
    following = timezone.now() + datetime.timedelta(days=3)
    response = client_for(rep_east).post(form_url(customer), post_data(
        summary="拜访客户，确认需求", kind=choice("followup_kind", "visit").pk, contact=contact.pk,
        outcome="有意向", next_step="发报价", next_followup_at=local_input(following)), **HTMX)

    assert response.status_code == 200
    followup = FollowUp.objects.get(customer=customer)
    assert (followup.summary, followup.kind.code, followup.contact, followup.created_by) == (
        "拜访客户，确认需求", "visit", contact, rep_east)
    assert (followup.outcome, followup.next_step) == ("有意向", "发报价")
    customer.refresh_from_db()
    assert customer.last_followup_at == followup.at
    assert local_input(customer.next_followup_at) == local_input(following)
    assert customer.status == CustomerStatus.FOLLOWING
    events = json.loads(response["HX-Trigger"])
    assert "crmModalClose" in events
    assert events["followupLogged"]["customer"] == customer.pk
    assert events["followupLogged"]["next_display"] == timezone.localtime(following).strftime("%m-%d %H:%M")
    assert events["followupLogged"]["last_display"] == timezone.localtime(followup.at).strftime("%Y-%m-%d")
    page = response.content.decode()
    assert f'hx-swap-oob="outerHTML:.followup-slot-{customer.pk}"' in page
    assert 'data-testid="followup-logged"' in page


def test_it_redirects_a_plain_post_to_the_customer(client_for, rep_east, customer):
    response = client_for(rep_east).post(form_url(customer), post_data())
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert FollowUp.objects.filter(customer=customer).count() == 1


@pytest.mark.parametrize("change, field", [
    ({"summary": "   "}, "summary"),
    ({"kind": ""}, "kind"),
    ({"at": "not a date"}, "at"),
    ({"next_followup_at": "2000-01-01T09:00"}, "next_followup_at"),
])
def test_it_shows_what_is_wrong_and_writes_nothing(english_client_for, rep_east, customer, change, field):
    response = english_client_for(rep_east).post(form_url(customer), post_data(**change), **HTMX)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert 'data-testid="followup-form"' in response.content.decode()
    assert not FollowUp.objects.exists()
    assert "HX-Trigger" not in response


def test_it_refuses_a_contact_of_another_customer(client_for, rep_east, customer):
    other = ContactFactory(customer=CustomerFactory(owner=rep_east))
    response = client_for(rep_east).post(form_url(customer), post_data(contact=other.pk), **HTMX)
    assert response.status_code == 422
    assert not FollowUp.objects.exists()


def test_a_team_mate_may_log_on_a_team_customer(client_for, rep_east2, customer):
    response = client_for(rep_east2).post(form_url(customer), post_data(), **HTMX)
    assert response.status_code == 200
    assert FollowUp.objects.get().created_by == rep_east2


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_teams_rep_gets_404_and_writes_nothing(client_for, rep_west, customer, method):
    client = client_for(rep_west)
    response = getattr(client, method)(form_url(customer), post_data() if method == "post" else None, **HTMX)
    assert response.status_code == 404
    assert customer.name not in response.content.decode()
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_read_only_share_gets_403_and_writes_nothing(client_for, rep_east, rep_west, customer, method):
    account_services.share_create(obj=customer, by=rep_east, user=rep_west)
    response = getattr(client_for(rep_west), method)(form_url(customer), post_data(), **HTMX)
    assert response.status_code == 403
    assert not FollowUp.objects.exists()


def test_the_button_shows_only_where_the_user_may_write(rf, rep_east, rep_west, customer):
    shared = CustomerFactory(owner=rep_west, name="只读客户")
    account_services.share_create(obj=shared, by=rep_west, user=rep_east)
    rows = {c.pk: c for c in with_edit_flag(Customer.objects.filter(pk__in=[customer.pk, shared.pk]), rep_east)}
    assert (rows[customer.pk].user_can_edit, rows[shared.pk].user_can_edit) == (True, False)

    def button(**context):
        return 'data-testid="log-followup"' in render_to_string("crm/partials/followup_button.html", context)

    assert button(customer=rows[customer.pk])
    assert not button(customer=rows[shared.pk])
    assert not button(customer=customer, can_edit=False)
    assert button(customer=customer, can_edit=True)
    customer.archived_at = timezone.now()
    assert not button(customer=customer, can_edit=True)


def test_the_customer_list_opens_the_form_in_its_modal(client_for, rep_east, customer):
    page = client_for(rep_east).get(reverse("crm:customer_list")).content.decode()
    assert f'hx-get="{form_url(customer)}"' in page
    assert page.count(' id="crm-modal"') == 1
    assert "js/crm.js" in page
