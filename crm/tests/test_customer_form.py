"""Creating and editing customers: normalised phones, clear errors, duplicates, edit conflicts."""
import pytest
from django.urls import reverse

from crm.models import Contact, Customer
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "kind": "company", "name": "杭州云栖数据有限公司", "tier": "A", "status": "prospect", "tags": "VIP，老客户 展会",
        "mobile": "+86 139-0571-2345", "phone": "0571-88886666", "email": "Info@YunQi.example",
        "website": "", "province": "浙江", "city": "杭州", "district": "西湖区", "address": "", "notes": "",
        "deal_status": "none", "deal_date": "", "next_followup_at": "", "owner": "", "team": "",
    }
    data.update(overrides)
    return data


def test_it_creates_a_customer_with_normalised_phones_tags_and_a_primary_contact(client_for, rep_east, picklists):
    response = client_for(rep_east).post(reverse("crm:customer_create"), form_data(
        owner=rep_east.pk, team=rep_east.team_id, industry=picklists["industry"]["it"].pk,
        contact_name="李娜", contact_title="采购经理", contact_mobile="13800001111"))
    customer = Customer.objects.get(name="杭州云栖数据有限公司")
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert customer.mobile == "+8613905712345"
    assert customer.phone == "+8657188886666"
    assert customer.email == "info@yunqi.example"
    assert customer.tags == ["VIP", "展会", "老客户"]
    assert customer.created_by == rep_east and customer.owner == rep_east
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.is_primary, contact.mobile) == ("李娜", True, "+8613800001111")
    assert "yunqi" in customer.search_text and "hzyq" in customer.search_text and "李娜" in customer.search_text


def test_it_explains_a_bad_phone_in_chinese_and_saves_nothing(client_for, rep_east):
    response = client_for(rep_east).post(reverse("crm:customer_create"), form_data(mobile="12345"))
    assert response.status_code == 200
    assert "不是可识别的电话号码" in response.content.decode()
    assert not Customer.objects.filter(name="杭州云栖数据有限公司").exists()


def test_it_explains_a_bad_phone_in_english(english_client_for, rep_east):
    response = english_client_for(rep_east).post(reverse("crm:customer_create"), form_data(phone="abc"))
    assert "is not a phone number we recognise" in response.content.decode()


def test_it_takes_a_well_formed_mobile_phonenumbers_calls_unallocated_and_keeps_an_extension(client_for, rep_east):
    import phonenumbers

    assert not phonenumbers.is_valid_number(phonenumbers.parse("14012345678", "CN"))  # new ranges open every year
    response = client_for(rep_east).post(reverse("crm:customer_create"), form_data(
        mobile="140.1234.5678", phone="021-6234 5678 转 801", owner=rep_east.pk, team=rep_east.team_id))
    customer = Customer.objects.get(name="杭州云栖数据有限公司")
    assert response.status_code == 302
    assert (customer.mobile, customer.phone) == ("+8614012345678", "+862162345678;ext=801")
    assert " 14012345678 " in customer.search_text and " 02162345678 " in customer.search_text
    page = client_for(rep_east).get(customer.get_absolute_url()).content.decode()
    assert "140 1234 5678" in page and "021 6234 5678 转 801" in page


def test_it_warns_about_a_likely_duplicate_and_saves_only_when_confirmed(client_for, rep_east):
    CustomerFactory(name="杭州云栖数据有限责任公司", owner=rep_east)
    client = client_for(rep_east)
    response = client.post(reverse("crm:customer_create"), form_data())
    assert response.status_code == 200
    assert "杭州云栖数据有限责任公司" in response.content.decode()
    assert Customer.objects.filter(name="杭州云栖数据有限公司").count() == 0
    client.post(reverse("crm:customer_create"), form_data(confirm_duplicate="on"))
    assert Customer.objects.filter(name="杭州云栖数据有限公司").count() == 1


def test_it_refuses_a_stale_save_and_keeps_the_other_persons_changes(client_for, rep_east, rep_east2):
    customer = CustomerFactory(name="原名", owner=rep_east)
    opened_version = customer.version
    first = client_for(rep_east2).post(reverse("crm:customer_edit", args=[customer.pk]), form_data(
        name="同事改的名字", mobile="", phone="", email="", owner=rep_east.pk, team=rep_east.team_id,
        version=opened_version))
    assert first.status_code == 302
    second = client_for(rep_east).post(reverse("crm:customer_edit", args=[customer.pk]), form_data(
        name="我改的名字", mobile="", phone="", email="", owner=rep_east.pk, team=rep_east.team_id,
        version=opened_version))
    assert second.status_code == 409
    assert "其他人" in second.content.decode()
    assert Customer.objects.get(pk=customer.pk).name == "同事改的名字"


def test_it_gives_another_teams_rep_404_on_edit(client_for, rep_west, rep_east):
    customer = CustomerFactory(name="上海的", owner=rep_east)
    client = client_for(rep_west)
    assert client.get(reverse("crm:customer_edit", args=[customer.pk])).status_code == 404
    assert client.post(reverse("crm:customer_edit", args=[customer.pk]), form_data()).status_code == 404
    assert Customer.objects.get(pk=customer.pk).name == "上海的"
