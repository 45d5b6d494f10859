"""The foundation's customer pages: list, detail (shares, history), create, edit, share, revoke."""
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts import services
from accounts.models import Share
from crm.models import Customer
from crm.tests.factories import CustomerFactory


def test_it_lists_with_a_fixed_number_of_queries(client, rep_east, rep_east2, django_assert_max_num_queries):
    for _ in range(3):
        CustomerFactory(owner=rep_east)
    client.force_login(rep_east)
    # Counted with Django's content-type cache empty, as in a fresh process: whether an earlier test in
    # the same process warmed it decided one query either way.
    ContentType.objects.clear_cache()
    with django_assert_max_num_queries(13) as few:
        client.get(reverse("crm:customer_list"))
    for i in range(40):
        CustomerFactory(owner=rep_east2 if i % 2 else rep_east)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("crm:customer_list"))
    assert response.status_code == 200


def test_it_shows_the_detail_with_a_fixed_number_of_queries(client, rep_east, rep_west, django_assert_max_num_queries):
    from crm.services import customer_update

    customer = CustomerFactory(owner=rep_east)
    services.share_create(obj=customer, by=rep_east, user=rep_west)
    services.share_create(obj=customer, by=rep_east, team=rep_east.team)
    for i in range(5):
        customer_update(customer=customer, by=rep_east, name=f"改名{i}")
    client.force_login(rep_east)
    ContentType.objects.clear_cache()  # as in a fresh process (see above)
    with django_assert_max_num_queries(20):  # the deals and tickets panels are one each; two content types
        response = client.get(reverse("crm:customer_detail", args=[customer.pk]))
    page = response.content.decode()
    assert "改名3" in page and "改名4" in page  # history shows old → new
    assert rep_west.name in page  # the share is shown on the record


REQUIRED = {"kind": "company", "tier": "B", "status": "prospect", "deal_status": "none"}


def test_it_creates_a_customer_owned_by_the_rep(client, rep_east):
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_create"), {
        "name": "新客户有限公司", "owner": rep_east.pk, "team": rep_east.team_id, **REQUIRED})
    customer = Customer.objects.get(name="新客户有限公司")
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert (customer.owner, customer.team) == (rep_east, rep_east.team)


def test_it_rejects_a_blank_name_and_writes_nothing(client, rep_east):
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_create"), {"name": "  ", "owner": rep_east.pk, **REQUIRED})
    assert response.status_code == 200
    assert not Customer.objects.exists()


def test_it_shares_and_withdraws_over_htmx(client, rep_east, rep_west):
    customer = CustomerFactory(owner=rep_east)
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_share", args=[customer.pk]),
                           {"user": rep_west.pk, "can_edit": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="shares"' in response.content.decode() and "<html" not in response.content.decode()
    share = Share.objects.get(object_id=customer.pk)
    assert (share.user, share.can_edit, share.created_by) == (rep_west, True, rep_east)
    response = client.post(reverse("crm:customer_share_revoke", args=[customer.pk, share.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and not Share.objects.exists()


def test_it_explains_a_share_without_a_recipient(client, rep_east):
    customer = CustomerFactory(owner=rep_east)
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_share", args=[customer.pk]), {"can_edit": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert not Share.objects.exists()


def test_a_refused_share_keeps_what_was_chosen_and_says_why(client, rep_east, rep_west, teams):
    customer = CustomerFactory(owner=rep_east)
    client.force_login(rep_east)
    url = reverse("crm:customer_share", args=[customer.pk])
    response = client.post(url, {"user": rep_west.pk, "team": teams["shanghai"].pk}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 422 and "请选择一个用户或一个团队作为共享对象" in body
    assert f'<option value="{rep_west.pk}" selected>{rep_west}</option>' in body
    assert f'<option value="{teams["shanghai"].pk}" selected>' in body
    assert '<optgroup label="北京分公司">' in body
    response = client.post(url, {"user": "999999"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 422 and 'is-invalid' in body and "选择一个有效的选项" in body
    assert not Share.objects.exists()


def test_it_refuses_to_share_another_branchs_customer(client, rep_east, rep_west):
    customer = CustomerFactory(owner=rep_west)
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_share", args=[customer.pk]), {"user": rep_east.pk})
    assert response.status_code == 404
    assert not Share.objects.exists()


def test_it_refuses_to_withdraw_a_share_for_a_read_only_recipient(client, rep_east, rep_west):
    customer = CustomerFactory(owner=rep_west)
    share = services.share_create(obj=customer, by=rep_west, user=rep_east)
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_share_revoke", args=[customer.pk, share.pk]))
    assert response.status_code == 403
    assert Share.objects.filter(pk=share.pk).exists()


def test_it_audits_bulk_updates_row_by_row(rep_east, rep_east2):
    import pghistory.models

    customers = [CustomerFactory(owner=rep_east) for _ in range(3)]
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(owner=rep_east2)
    for customer in customers:
        labels = list(pghistory.models.Events.objects.tracks(customer).values_list("pgh_label", flat=True))
        assert labels.count("update") == 1


def test_it_shows_a_translated_404_page_without_naming_the_record(client, rep_east, rep_west):
    customer = CustomerFactory(name="北京秘密客户", owner=rep_west)
    client.force_login(rep_east)
    response = client.get(reverse("crm:customer_detail", args=[customer.pk]))
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page and "北京秘密客户" not in page
