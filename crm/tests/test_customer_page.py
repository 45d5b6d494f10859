"""The 360° customer page: profile, contacts, the timeline, next follow-up, panels, and the archive,
restore and purge buttons behind it."""
import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from crm import panels, services
from crm.models import Customer, FollowUp
from crm.tests.factories import ContactFactory, CustomerFactory, choice

pytestmark = pytest.mark.dates


@pytest.fixture
def customer(rep_east, picklists):
    return services.customer_create(
        by=rep_east, name="上海华信科技有限公司", tier="A", industry=picklists["industry"]["it"],
        source=picklists["source"]["referral"], tags=["重点", "华东"], mobile="+8613812345678",
        phone="+862162345678", email="info@huaxin.cn", website="www.huaxin.cn", province="上海市",
        city="上海市", district="浦东新区", address="张江路 88 号", notes="年底有采购计划",
        contact={"name": "王芳", "title": "采购经理", "mobile": "+8613900001111", "email": "wang@huaxin.cn"},
    )


def page_of(client, customer):
    return client.get(customer.get_absolute_url())


def test_it_shows_the_whole_profile(client_for, rep_east, customer):
    response = page_of(client_for(rep_east), customer)
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("上海华信科技有限公司", "A 重点", "信息技术", "客户介绍", "浦东新区", "张江路 88 号", "年底有采购计划",
                 'href="tel:+8613812345678"', "138 1234 5678", 'href="tel:+862162345678"', "021 6234 5678",
                 'href="mailto:info@huaxin.cn"', 'href="https://www.huaxin.cn"', rep_east.name):
        assert text in page, text
    assert '<span class="badge rounded-pill text-bg-light border me-1">重点</span>' in page
    assert "王芳" in page and 'href="tel:+8613900001111"' in page and 'data-testid="primary"' in page


@pytest.mark.db_clock
def test_it_interleaves_follow_ups_and_changes_newest_first(english_client_for, rep_east, customer):
    contact = customer.contacts.get()
    old = timezone.now() - datetime.timedelta(days=2)
    services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "visit"), at=old,
                          summary="上门拜访", contact=contact, outcome="有意向", next_step="发方案")
    services.customer_update(customer=customer, by=rep_east, tier="B")
    services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "call"), summary="电话确认方案")

    response = page_of(english_client_for(rep_east), customer)

    timeline = response.context["timeline"]
    summary = [(item["type"], item["followup"].summary if item["type"] == "followup" else item["title"])
               for item in timeline]
    assert summary == [
        ("followup", "电话确认方案"), ("change", "edited the customer"), ("change", "created the customer"),
        ("followup", "上门拜访"),
    ]
    assert timeline[1]["changes"] == [("tier", "A (key)", "B (regular)")]
    assert timeline[1]["who"] == str(rep_east)
    page = response.content.decode()
    assert "上门拜访" in page and "有意向" in page and "发方案" in page and "Visit" in page and "王芳" in page


def test_it_highlights_an_overdue_follow_up(client_for, rep_east, customer):
    Customer.objects.filter(pk=customer.pk).update(next_followup_at=timezone.now() - datetime.timedelta(days=3))
    response = page_of(client_for(rep_east), customer)
    assert response.context["next_state"] == "overdue"
    assert 'data-testid="overdue"' in response.content.decode()
    Customer.objects.filter(pk=customer.pk).update(next_followup_at=timezone.now() + datetime.timedelta(days=3))
    assert page_of(client_for(rep_east), customer).context["next_state"] == "later"


def test_it_renders_with_a_fixed_number_of_queries(client_for, rep_east, rep_west, customer,
                                                   django_assert_max_num_queries):
    client = client_for(rep_east)
    # The change history names related records with one query per related model (a fixed few).
    services.customer_update(customer=customer, by=rep_east, industry=choice("industry", "retail"))
    ContentType.objects.clear_cache()  # counted as in a fresh process, whatever ran before in this one
    with django_assert_max_num_queries(21) as few:  # 16, one each for the deals and tickets panels and imported
        # values, two content types
        page_of(client, customer)
    account_services.share_create(obj=customer, by=rep_east, user=rep_west)
    for i in range(5):
        contact = ContactFactory(customer=customer, name=f"联系人{i}", mobile=f"+86139000022{i:02d}")
        services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "call"),
                              summary=f"第{i}次电话", contact=contact)
        services.customer_update(customer=customer, by=rep_east, name=f"改名{i}", industry=choice("industry", "finance"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = page_of(client, customer)
    assert "第4次电话" in response.content.decode()


def test_it_shows_the_panels_other_areas_register(english_client_for, rep_east, customer):
    page = page_of(english_client_for(rep_east), customer).content.decode()
    # Sales and service bring their own panels; marketing still has the placeholder.
    assert page.count('data-testid="panel-placeholder"') == 1
    assert 'data-testid="panel-opportunities"' in page and 'data-testid="panel-tickets"' in page
    assert "No opportunities yet." in page and "No tickets yet." in page and "No campaigns yet." in page
    saved = dict(panels._registry)
    try:
        panels.register_panel("crm/partials/panel_placeholder.html", 5, key="opportunities",
                              context=lambda user, customer: {"title": "商机面板", "icon": "x", "empty": user.name})
        page = page_of(english_client_for(rep_east), customer).content.decode()
        assert "商机面板" in page and "No opportunities yet." not in page
        assert page.index("商机面板") < page.index("No tickets yet.")
    finally:
        panels._registry.clear()
        panels._registry.update(saved)


def test_another_teams_rep_gets_404(client_for, rep_west, customer):
    response = page_of(client_for(rep_west), customer)
    assert response.status_code == 404
    assert customer.name not in response.content.decode()
    response = client_for(rep_west).get(reverse("crm:customer_timeline", args=[customer.pk]))
    assert response.status_code == 404


def test_a_read_only_viewer_sees_no_write_buttons(client_for, rep_east, rep_west, customer):
    account_services.share_create(obj=customer, by=rep_east, user=rep_west)
    page = page_of(client_for(rep_west), customer).content.decode()
    assert customer.name in page
    for testid in ("log-followup", "edit-customer", "archive", "add-contact", "release"):
        assert f'data-testid="{testid}"' not in page, testid


def test_the_owner_sees_every_write_button(client_for, rep_east, customer):
    page = page_of(client_for(rep_east), customer).content.decode()
    for testid in ("log-followup", "sticky-followup", "edit-customer", "archive", "add-contact", "release"):
        assert f'data-testid="{testid}"' in page, testid
    assert 'data-testid="claim"' not in page


def test_a_pool_member_may_claim_a_pool_customer(client_for, rep_east, teams):
    from crm.models import Pool

    pool = Pool.objects.create(name="华东公海")
    pool.teams.add(teams["east"])
    in_pool = CustomerFactory(name="公海里的客户", pool=pool)
    page = page_of(client_for(rep_east), in_pool).content.decode()
    assert f'action="{reverse("crm:customer_claim", args=[in_pool.pk])}"' in page
    assert 'data-testid="log-followup"' not in page


def test_the_timeline_partial_brings_the_next_follow_up_along(client_for, rep_east, customer):
    services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "call"), summary="刚打过电话",
                          next_followup_at=timezone.now() + datetime.timedelta(days=1))
    response = client_for(rep_east).get(reverse("crm:customer_timeline", args=[customer.pk]), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert 'id="timeline"' in page and "刚打过电话" in page
    assert 'id="next-followup"' in page and 'hx-swap-oob="true"' in page


class TestArchive:
    def test_it_archives_and_restores(self, client_for, rep_east, customer):
        client = client_for(rep_east)
        response = client.post(reverse("crm:customer_archive", args=[customer.pk]))
        assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
        customer.refresh_from_db()
        assert customer.archived_at is not None
        page = page_of(client, customer).content.decode()
        assert 'data-testid="archived-notice"' in page and 'data-testid="log-followup"' not in page
        assert 'data-testid="purge"' not in page  # a rep may not delete for good
        response = client.post(reverse("crm:customer_restore", args=[customer.pk]), HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and response["HX-Redirect"] == customer.get_absolute_url()
        customer.refresh_from_db()
        assert customer.archived_at is None

    def test_only_post_is_allowed(self, client_for, rep_east, customer):
        assert client_for(rep_east).get(reverse("crm:customer_archive", args=[customer.pk])).status_code == 405

    @pytest.mark.parametrize("name", ["customer_archive", "customer_restore", "customer_purge"])
    def test_another_teams_rep_gets_404(self, client_for, rep_west, customer, name):
        Customer.objects.filter(pk=customer.pk).update(archived_at=timezone.now() if name != "customer_archive" else None)
        response = client_for(rep_west).post(reverse(f"crm:{name}", args=[customer.pk]))
        assert response.status_code == 404
        assert Customer.objects.filter(pk=customer.pk).exists()

    def test_a_read_only_share_gets_403(self, client_for, rep_east, rep_west, customer):
        account_services.share_create(obj=customer, by=rep_east, user=rep_west)
        assert client_for(rep_west).post(reverse("crm:customer_archive", args=[customer.pk])).status_code == 403
        customer.refresh_from_db()
        assert customer.archived_at is None

    def test_an_admin_purges_an_archived_customer(self, client_for, rep_east, admin, customer):
        services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "call"), summary="电话")
        client = client_for(admin)
        response = client.post(reverse("crm:customer_purge", args=[customer.pk]))
        assert response.status_code == 302 and Customer.objects.filter(pk=customer.pk).exists()  # not archived yet
        services.customer_archive(customer=customer, by=admin)
        assert 'data-testid="purge"' in page_of(client, customer).content.decode()
        response = client.post(reverse("crm:customer_purge", args=[customer.pk]))
        assert response.status_code == 302 and response["Location"] == reverse("crm:customer_list")
        assert not Customer.objects.filter(pk=customer.pk).exists() and not FollowUp.objects.exists()

    def test_a_rep_may_not_purge(self, client_for, rep_east, customer):
        services.customer_archive(customer=customer, by=rep_east)
        assert client_for(rep_east).post(reverse("crm:customer_purge", args=[customer.pk])).status_code == 403
        assert Customer.objects.filter(pk=customer.pk).exists()
