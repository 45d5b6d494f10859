"""A customer's contacts on the customer page: add, edit, delete over htmx, one primary, phones."""
import json

import pytest
from django.urls import reverse

from accounts import services as account_services
from crm.models import Contact
from crm.tests.factories import ContactFactory, CustomerFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def customer(rep_east):
    return CustomerFactory(name="上海华信科技有限公司", owner=rep_east)


def create_url(customer):
    return reverse("crm:contact_create", args=[customer.pk])


def edit_url(contact):
    return reverse("crm:contact_edit", args=[contact.customer_id, contact.pk])


def delete_url(contact):
    return reverse("crm:contact_delete", args=[contact.customer_id, contact.pk])


def contact_data(**overrides):
    data = {"name": "王芳", "title": "采购经理", "mobile": "138 1234 5678", "phone": "(021) 6234-5678",
            "email": "wang@huaxin.cn", "wechat": "wangfang", "notes": ""}
    data.update(overrides)
    return data


def test_it_adds_a_contact_with_normalised_phones(client_for, rep_east, customer):
    response = client_for(rep_east).post(create_url(customer), contact_data(), **HTMX)

    assert response.status_code == 200
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.mobile, contact.phone) == ("王芳", "+8613812345678", "+862162345678")
    assert contact.is_primary  # the first contact is the primary one
    page = response.content.decode()
    assert 'id="contacts"' in page and 'hx-swap-oob="true"' in page
    assert 'href="tel:+8613812345678"' in page and "138 1234 5678" in page
    assert 'href="tel:+862162345678"' in page and "021 6234 5678" in page
    assert 'href="mailto:wang@huaxin.cn"' in page
    assert "crmModalClose" in json.loads(response["HX-Trigger"])
    customer.refresh_from_db()
    assert "13812345678" in customer.search_text and "王芳" in customer.search_text


@pytest.mark.parametrize("field", ["mobile", "phone"])
def test_it_explains_an_invalid_phone_and_saves_nothing(english_client_for, rep_east, customer, field):
    response = english_client_for(rep_east).post(create_url(customer), contact_data(**{field: "12345"}), **HTMX)
    assert response.status_code == 422
    assert "This is not a valid phone number" in response.content.decode()
    assert not Contact.objects.exists()


def test_it_asks_for_a_name(english_client_for, rep_east, customer):
    response = english_client_for(rep_east).post(create_url(customer), contact_data(name="  "), **HTMX)
    assert response.status_code == 422
    assert "name" in response.context["form"].errors
    assert not Contact.objects.exists()


def test_it_keeps_one_primary_contact(client_for, rep_east, customer):
    first = ContactFactory(customer=customer, name="甲", is_primary=True)
    client = client_for(rep_east)
    client.post(create_url(customer), contact_data(name="乙", is_primary="on"), **HTMX)
    second = Contact.objects.get(name="乙")
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    client.post(edit_url(first), contact_data(name="甲", is_primary="on", mobile="", phone=""), **HTMX)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_primary and not second.is_primary


def test_it_edits_a_contact_showing_phones_as_people_write_them(client_for, rep_east, customer):
    contact = ContactFactory(customer=customer, name="王芳", mobile="+8613812345678")
    client = client_for(rep_east)
    response = client.get(edit_url(contact), **HTMX)
    assert response.status_code == 200
    assert 'value="138 1234 5678"' in response.content.decode()
    response = client.post(edit_url(contact), contact_data(name="王芳芳", mobile="13987654321", phone=""), **HTMX)
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.name, contact.mobile, contact.phone) == ("王芳芳", "+8613987654321", "")


def test_it_deletes_a_contact_and_answers_with_the_card(client_for, rep_east, customer):
    contact = ContactFactory(customer=customer, name="王芳")
    keep = ContactFactory(customer=customer, name="李雷")
    response = client_for(rep_east).post(delete_url(contact), **HTMX)
    assert response.status_code == 200
    assert list(Contact.objects.filter(customer=customer)) == [keep]
    page = response.content.decode()
    assert 'id="contacts"' in page and "李雷" in page and "王芳" not in page


def test_it_answers_404_for_a_contact_of_another_customer(client_for, rep_east, customer):
    other = ContactFactory(customer=CustomerFactory(owner=rep_east))
    url = reverse("crm:contact_edit", args=[customer.pk, other.pk])
    assert client_for(rep_east).get(url, **HTMX).status_code == 404
    url = reverse("crm:contact_delete", args=[customer.pk, other.pk])
    assert client_for(rep_east).post(url, **HTMX).status_code == 404
    assert Contact.objects.filter(pk=other.pk).exists()


def test_another_teams_rep_gets_404_everywhere(client_for, rep_west, customer):
    contact = ContactFactory(customer=customer, name="王芳")
    client = client_for(rep_west)
    for response in (
        client.get(create_url(customer), **HTMX),
        client.post(create_url(customer), contact_data(name="入侵者"), **HTMX),
        client.get(edit_url(contact), **HTMX),
        client.post(edit_url(contact), contact_data(name="改掉"), **HTMX),
        client.post(delete_url(contact), **HTMX),
    ):
        assert response.status_code == 404
        assert "王芳" not in response.content.decode()
    assert list(Contact.objects.values_list("name", flat=True)) == ["王芳"]


def test_a_read_only_share_may_not_change_contacts(client_for, rep_east, rep_west, customer):
    contact = ContactFactory(customer=customer, name="王芳")
    account_services.share_create(obj=customer, by=rep_east, user=rep_west)
    client = client_for(rep_west)
    assert client.post(create_url(customer), contact_data(name="新人"), **HTMX).status_code == 403
    assert client.post(edit_url(contact), contact_data(name="改掉"), **HTMX).status_code == 403
    assert client.post(delete_url(contact), **HTMX).status_code == 403
    assert list(Contact.objects.values_list("name", flat=True)) == ["王芳"]
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "王芳" in page and 'data-testid="add-contact"' not in page and 'data-testid="delete-contact"' not in page
